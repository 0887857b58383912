package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/scopegate/scopegate/storage/token"
)

// adminTokenStore is what the admin-token bootstrap needs of the store.
type adminTokenStore interface {
	AddAdminToken(ctx context.Context, secret, label string) error
	HasAdminTokens(ctx context.Context) (bool, error)
	RetireAdminTokensExcept(ctx context.Context, keep, label string) (int, error)
}

// bootstrapAdminToken stores the configured admin token (with
// --admin-token-only, as the only one), or, when there is none configured
// and none stored, generates one and prints it once. Each token carries a
// human label, the actor "admin:LABEL" in the audit trail.
func bootstrapAdminToken(ctx context.Context, store adminTokenStore, cfg ServeConfig, now time.Time, stdout io.Writer) error {
	label := cfg.AdminTokenLabel
	if cfg.AdminToken != "" {
		if label == "" {
			label = "configured token"
		}
		if !cfg.AdminTokenOnly {
			return store.AddAdminToken(ctx, cfg.AdminToken, label)
		}
		n, err := store.RetireAdminTokensExcept(ctx, cfg.AdminToken, label)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "scopegate: --admin-token-only: the configured admin token is now the only one; retired %s\n", plural(n, "other admin token"))
		return nil
	}
	has, err := store.HasAdminTokens(ctx)
	if err != nil || has {
		return err
	}
	if label == "" {
		label = "first-start token, " + now.UTC().Format("2006-01-02")
	}
	t := "sgadm_" + token.NewRandom()
	if err := store.AddAdminToken(ctx, t, label); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "scopegate: generated the first admin token (%q); it is shown only now, keep it:\n  SCOPEGATE_ADMIN_TOKEN=%s\n", label, t)
	return nil
}

// plural spells a count with its noun: "1 grant", "2 grants", "0 grants".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
