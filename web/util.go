package web

import (
	"errors"
	"strconv"

	"github.com/scopegate/scopegate/storage"
)

func isNotFound(err error) bool { return errors.Is(err, storage.ErrNotFound) }

func itoa(n int) string { return strconv.Itoa(n) }
