package adminapi

import "time"

// Error is the error body of every admin and plugin API answer that is not
// a success: an RFC 6749 §5.2-shaped error plus, for invalid input, one
// message per offending field keyed by its JSON path (such as
// "redirect_uris[0]" or "lines[1].justification").
type Error struct {
	Code        string            `json:"error"`
	Description string            `json:"error_description,omitempty"`
	Fields      map[string]string `json:"fields,omitempty"`
}

// Client is a client as the admin API shows it: never a secret or its
// hash, only when each stored secret expires.
type Client struct {
	ClientID     string   `json:"client_id"`
	Name         string   `json:"name"`
	Type         string   `json:"type"`
	Role         string   `json:"role"`
	Status       string   `json:"status"`
	RedirectURIs []string `json:"redirect_uris"`
	GrantTypes   []string `json:"grant_types"`
	// Approved is the approved maximum, in catalogue order.
	Approved    []string  `json:"approved"`
	Secrets     []Secret  `json:"secrets"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
	Publisher   string    `json:"publisher,omitempty"`
	HomepageURL string    `json:"homepage_url,omitempty"`
	PrivacyURL  string    `json:"privacy_url,omitempty"`
}

// Secret is one verifying secret: the current one, or a rotated one in its
// grace period (with ExpiresAt).
type Secret struct {
	Current   bool       `json:"current"`
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
	// CreatedAt is when the secret was made (absent for secrets made
	// before this was recorded).
	CreatedAt *time.Time `json:"created_at,omitempty"`
}

// CreateClientRequest is the body of POST /admin/v1/clients.
type CreateClientRequest struct {
	ID           string   `json:"id" validate:"omitempty,objid"`
	Name         string   `json:"name" validate:"required,label"`
	Type         string   `json:"type" validate:"omitempty,oneof=confidential public"`
	Role         string   `json:"role" validate:"omitempty,oneof=plugin resource-server"`
	RedirectURIs []string `json:"redirect_uris" validate:"max=20,unique,dive,redirecturi"`
	GrantTypes   []string `json:"grant_types" validate:"omitnil,max=3,unique,dive,oneof=authorization_code refresh_token client_credentials"`
	Approve      []string `json:"approve" validate:"max=70,unique,dive,scope"`
	Publisher    string   `json:"publisher" validate:"omitempty,label"`
	HomepageURL  string   `json:"homepage_url" validate:"omitempty,pageurl"`
	PrivacyURL   string   `json:"privacy_url" validate:"omitempty,pageurl"`
}

// ClientCreated answers POST /admin/v1/clients. ClientSecret (confidential
// clients only) is shown here and nowhere else; ReviewID names the
// admin-filed review that records Approve.
type ClientCreated struct {
	Client
	ClientSecret string `json:"client_secret,omitempty"`
	ReviewID     string `json:"review_id,omitempty"`
}

// ClientList answers GET /admin/v1/clients.
type ClientList struct {
	Clients []Client `json:"clients"`
}

// UpdateClientRequest is the body of PATCH /admin/v1/clients/{id}; a nil
// field is left as it is. Redirect URIs and grant types are replaced as a
// whole; "" clears Publisher, HomepageURL or PrivacyURL.
type UpdateClientRequest struct {
	Name         *string   `json:"name" validate:"omitnil,label"`
	RedirectURIs *[]string `json:"redirect_uris" validate:"omitnil,max=20,unique,dive,redirecturi"`
	GrantTypes   *[]string `json:"grant_types" validate:"omitnil,max=3,unique,dive,oneof=authorization_code refresh_token client_credentials"`
	Publisher    *string   `json:"publisher" validate:"omitnil,optlabel"`
	HomepageURL  *string   `json:"homepage_url" validate:"omitnil,pageurl"`
	PrivacyURL   *string   `json:"privacy_url" validate:"omitnil,pageurl"`
}

// Empty reports whether the update changes nothing.
func (r UpdateClientRequest) Empty() bool {
	return r.Name == nil && r.RedirectURIs == nil && r.GrantTypes == nil && r.Publisher == nil && r.HomepageURL == nil && r.PrivacyURL == nil
}

// RotateRequest is the (optional) body of POST
// /admin/v1/clients/{id}/rotate-secret; GraceSeconds defaults to 3600.
type RotateRequest struct {
	GraceSeconds *int `json:"grace_seconds" validate:"omitnil,min=0,max=604800"`
}

// Rotated answers a secret rotation; ClientSecret is shown once.
type Rotated struct {
	Client             Client    `json:"client"`
	ClientID           string    `json:"client_id"`
	ClientSecret       string    `json:"client_secret"`
	OldSecretsExpireAt time.Time `json:"old_secrets_expire_at"`
}

// ScopesRequest is the body of POST /admin/v1/clients/{id}/lower (scopes to
// remove) and PUT /admin/v1/clients/{id}/approved (the new maximum, which
// may be empty).
type ScopesRequest struct {
	Scopes []string `json:"scopes" validate:"required,max=70,unique,dive,scope"`
}

// Deleted answers DELETE /admin/v1/clients/{id}: what was revoked.
type Deleted struct {
	ClientID string `json:"client_id"`
	Deleted  bool   `json:"deleted"`
	Grants   int    `json:"grants"`
	Tokens   int    `json:"tokens"`
}

// Website is the body and answer of POST /admin/v1/websites and the answer
// of GET /admin/v1/websites/{id}.
type Website struct {
	ID   string `json:"id" validate:"required,objid"`
	Name string `json:"name" validate:"required,label"`
}

// OperatorCreateRequest is the body of POST /admin/v1/operators.
type OperatorCreateRequest struct {
	Email    string   `json:"email" validate:"required,max=254,email"`
	Password string   `json:"password" validate:"required,min=12,max=72"`
	Websites []string `json:"websites" validate:"required,min=1,max=100,unique,dive,ref"`
}

// OperatorCreated answers POST /admin/v1/operators.
type OperatorCreated struct {
	Email      string   `json:"email"`
	OperatorID string   `json:"operator_id"`
	Websites   []string `json:"websites"`
}
