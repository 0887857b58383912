package storage

import (
	"context"
	"log/slog"
	"time"
)

// AuditLog is the audit trail's one writer, shared by the protocol (grants
// created, tokens revoked by their clients) and the administration service
// (every admin, review and revocation event). Record stamps an event with
// the time, and with actor when the event names none, and appends it with
// a context detached from the caller's cancellation: a client hanging up
// must not lose the record of a change that was made. A failure is logged,
// not returned, because the change is already made and must be reported as
// made.
type AuditLog struct {
	Store  Audit
	Logger *slog.Logger     // a discard logger when nil
	Now    func() time.Time // time.Now when nil
}

// Record appends e to the trail. e.Kind is one of AuditKinds.
func (a AuditLog) Record(ctx context.Context, actor string, e Event) {
	now := a.Now
	if now == nil {
		now = time.Now
	}
	e.Time = now()
	if e.Actor == "" {
		e.Actor = actor
	}
	if err := a.Store.AppendEvent(context.WithoutCancel(ctx), e); err != nil && a.Logger != nil {
		a.Logger.Error("audit: append failed", "kind", e.Kind, "err", err)
	}
}
