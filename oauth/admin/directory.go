package admin

import (
	"context"
	"errors"
	"strconv"
	"strings"

	"golang.org/x/crypto/bcrypt"

	"github.com/scopegate/scopegate/storage"
	"github.com/scopegate/scopegate/storage/token"
)

// CreateWebsite registers a website; an existing ID is an ErrConflict
// blaming "id" and the website is left untouched.
func (s *Service) CreateWebsite(ctx context.Context, actor string, w storage.Website) (storage.Website, error) {
	_, err := s.store.GetWebsite(ctx, w.ID)
	if err == nil {
		return w, conflict("website", "a website with this id already exists", map[string]string{"id": "is taken"})
	}
	if !errors.Is(err, storage.ErrNotFound) {
		return w, fromStore(err, "website")
	}
	if err := s.store.PutWebsite(ctx, w); err != nil {
		return w, fromStore(err, "website")
	}
	s.Audit(ctx, actor, storage.Event{Kind: storage.KindWebsiteCreated, WebsiteID: w.ID, Detail: map[string]string{"name": w.Name}})
	return w, nil
}

// GetWebsite returns one website.
func (s *Service) GetWebsite(ctx context.Context, id string) (storage.Website, error) {
	w, err := s.store.GetWebsite(ctx, id)
	return w, fromStore(err, "website")
}

// NewOperator is an operator to create: a person who signs in with Email
// and Password and consents for Websites, which must exist already.
type NewOperator struct {
	Email    string
	Password string
	Websites []string
}

// CreateOperator creates an operator; the password is stored as a bcrypt
// hash only. bad holds the complaints its caller found while decoding
// (nil when none); the service adds its own (a password over bcrypt's 72
// bytes, each website that does not exist) and creates nothing unless all
// are empty. A taken e-mail is an ErrConflict blaming "email".
func (s *Service) CreateOperator(ctx context.Context, actor string, n NewOperator, bad map[string]string) (storage.Operator, error) {
	fields := addMissing(nil, bad)
	if _, seen := fields["password"]; !seen && len(n.Password) > 72 {
		fields["password"] = "must be at most 72 bytes"
	}
	if _, seen := fields["websites"]; !seen {
		for i, w := range n.Websites {
			key := "websites[" + strconv.Itoa(i) + "]"
			if _, seen := fields[key]; seen {
				continue
			}
			_, err := s.store.GetWebsite(ctx, w)
			if errors.Is(err, storage.ErrNotFound) {
				fields[key] = "no such website (create it with POST /admin/v1/websites)"
			} else if err != nil {
				return storage.Operator{}, fromStore(err, "website")
			}
		}
	}
	if err := Invalid(fields); err != nil {
		return storage.Operator{}, err
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(n.Password), bcrypt.DefaultCost)
	if err != nil {
		return storage.Operator{}, &Error{Kind: ErrInvalid, What: "operator", Description: "the password cannot be hashed"}
	}
	op := storage.Operator{ID: "op_" + token.NewID()[:16], Email: strings.ToLower(n.Email), PasswordHash: hash,
		Websites: n.Websites, CreatedAt: s.now()}
	if err := s.store.CreateOperator(ctx, op); err != nil {
		if errors.Is(err, storage.ErrAlreadyExists) {
			return op, conflict("operator", "an operator with this e-mail already exists", map[string]string{"email": "is taken"})
		}
		return op, fromStore(err, "operator")
	}
	s.Audit(ctx, actor, storage.Event{Kind: storage.KindOperatorCreated, Detail: map[string]string{
		"operator_id": op.ID, "websites": strings.Join(op.Websites, ",")}})
	return op, nil
}
