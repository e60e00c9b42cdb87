package charts

import (
	"encoding/json"
	"encoding/pem"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
)

// Webhook is an admission webhook on loopback that admits everything and
// records what the API server asked, so a test can tell that the charts'
// webhooks were really called. It stops when the test ends.
type Webhook struct {
	URL string
	// CA is the PEM certificate the API server checks the webhook's TLS
	// certificate against (clientConfig.caBundle).
	CA []byte

	mu   sync.Mutex
	seen []Review
}

// Review is one admission request the webhook answered.
type Review struct {
	Path      string
	Kind      string
	Name      string
	Namespace string
	Operation string
}

// StartWebhook starts a Webhook for the life of the test.
func StartWebhook(t testing.TB) *Webhook {
	t.Helper()
	w := &Webhook{}
	srv := httptest.NewTLSServer(http.HandlerFunc(w.serve))
	t.Cleanup(srv.Close)
	w.URL = srv.URL
	w.CA = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	return w
}

// Seen returns the requests answered so far.
func (w *Webhook) Seen() []Review {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]Review(nil), w.seen...)
}

func (w *Webhook) serve(rw http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 8<<20))
	if err != nil {
		http.Error(rw, err.Error(), http.StatusBadRequest)
		return
	}
	var review struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
		Request    struct {
			UID       string                `json:"uid"`
			Kind      struct{ Kind string } `json:"kind"`
			Name      string                `json:"name"`
			Namespace string                `json:"namespace"`
			Operation string                `json:"operation"`
		} `json:"request"`
	}
	if err := json.Unmarshal(body, &review); err != nil {
		http.Error(rw, err.Error(), http.StatusBadRequest)
		return
	}
	w.mu.Lock()
	w.seen = append(w.seen, Review{
		Path: r.URL.Path, Kind: review.Request.Kind.Kind, Name: review.Request.Name,
		Namespace: review.Request.Namespace, Operation: review.Request.Operation,
	})
	w.mu.Unlock()
	rw.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(rw).Encode(map[string]any{
		"apiVersion": review.APIVersion,
		"kind":       "AdmissionReview",
		"response":   map[string]any{"uid": review.Request.UID, "allowed": true},
	})
}
