package oauth

import "time"

// Lifetimes returns the access and refresh token lifetimes in force, for
// pages that tell an operator how long a plugin's access lasts.
func (p *Provider) Lifetimes() (access, refresh time.Duration) {
	return p.cfg.AccessTTL, p.cfg.RefreshTTL
}
