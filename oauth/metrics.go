package oauth

import "github.com/prometheus/client_golang/prometheus"

// metrics counts what the hot paths do, for Prometheus. Counters are
// registered on Config.Registerer when one is given; without one they
// still count, unexported. Labels carry no client IDs and no tokens.
type metrics struct {
	issuedCC, issuedCode, issuedRefresh prometheus.Counter
	introActive, introInactive          prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	issued := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "scopegate_tokens_issued_total",
		Help: "Access tokens issued by the token endpoint, by grant type (RFC 6749 §4.1, §4.4, §6).",
	}, []string{"grant_type"})
	intro := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "scopegate_introspections_total",
		Help: "Introspection answers (RFC 7662), by whether the token was active.",
	}, []string{"active"})
	if reg != nil {
		for _, c := range []prometheus.Collector{issued, intro} {
			if err := reg.Register(c); err != nil {
				return nil, err
			}
		}
	}
	// Children resolved once: counting costs no label lookup per request.
	return &metrics{
		issuedCC:      issued.WithLabelValues("client_credentials"),
		issuedCode:    issued.WithLabelValues("authorization_code"),
		issuedRefresh: issued.WithLabelValues("refresh_token"),
		introActive:   intro.WithLabelValues("true"),
		introInactive: intro.WithLabelValues("false"),
	}, nil
}

// issued counts one access token issued with grant type gt.
func (m *metrics) issued(gt string) {
	switch gt {
	case "client_credentials":
		m.issuedCC.Inc()
	case "authorization_code":
		m.issuedCode.Inc()
	case "refresh_token":
		m.issuedRefresh.Inc()
	}
}

// introspected counts one introspection answer.
func (m *metrics) introspected(active bool) {
	if active {
		m.introActive.Inc()
	} else {
		m.introInactive.Inc()
	}
}
