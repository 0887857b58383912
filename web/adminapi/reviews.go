package adminapi

import "time"

// Review is a scope request with each line's catalogue entry spelled out.
type Review struct {
	ID       string `json:"id"`
	ClientID string `json:"client_id"`
	// FiledBy is "client" or "admin:<label>".
	FiledBy string `json:"filed_by"`
	// Status is pending (a line waits for a decision) or decided.
	Status    string       `json:"status"`
	Lines     []ReviewLine `json:"lines"`
	CreatedAt time.Time    `json:"created_at"`
}

// ReviewLine is one requested scope and its decision.
type ReviewLine struct {
	Index      int    `json:"index"`
	Scope      string `json:"scope"`
	Permission string `json:"permission"`
	Kind       string `json:"kind"`
	// Description is the catalogue's sentence for the permission.
	Description   string     `json:"description"`
	Justification string     `json:"justification"`
	Status        string     `json:"status"`
	Reviewer      string     `json:"reviewer,omitempty"`
	Note          string     `json:"note,omitempty"`
	DecidedAt     *time.Time `json:"decided_at,omitempty"`
}

// ReviewList answers GET /admin/v1/reviews.
type ReviewList struct {
	Reviews []Review `json:"reviews"`
}

// ReviewLineRequest is one line of a scope request.
type ReviewLineRequest struct {
	Scope         string `json:"scope" validate:"required,scope"`
	Justification string `json:"justification" validate:"required,sentence"`
}

// AdminReviewRequest is the body of POST /admin/v1/reviews.
type AdminReviewRequest struct {
	ClientID string              `json:"client_id" validate:"required,ref"`
	Lines    []ReviewLineRequest `json:"lines" validate:"required,min=1,max=70,dive"`
}

// PluginReviewRequest is the body of POST /plugin/v1/scope-requests.
type PluginReviewRequest struct {
	Lines []ReviewLineRequest `json:"lines" validate:"required,min=1,max=70,dive"`
}

// DecisionRequest is the body of POST /admin/v1/reviews/{id}/lines/{line}.
type DecisionRequest struct {
	Decision string `json:"decision" validate:"required,oneof=approve reject"`
	Note     string `json:"note" validate:"note"`
}

// Decided answers a decision: the review and the client as they are now.
type Decided struct {
	Client Client `json:"client"`
	Review Review `json:"review"`
}
