package nsxclient

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"syscall"
	"time"
)

// Retry policy.
//
// NSX signals "not now" in three ways, and the client retries all of them for every request,
// because in each case NSX did not apply the request:
//   - 429 Too Many Requests (per-client rate or concurrency limit), honouring Retry-After;
//   - 503 Service Unavailable (global concurrency limit, service restarting), honouring
//     Retry-After;
//   - 500 with error_code 607 ("API transaction aborted as MP cluster is reconfiguring"): the
//     transaction was rolled back;
//   - 400 with error_code 500045 (Policy API: the path is still being deleted): nothing was
//     applied, and the path frees up once the earlier delete is realized.
//
// Connection failures are different: whether NSX applied the request depends on whether it got
// it. The client watches the wire (httptrace WroteRequest):
//   - the request was not completely written (dial failure, refused connection, reset during
//     the write): NSX cannot have acted on it, so any request is retried;
//   - it was written and then the connection dropped or timed out: only replay-safe requests
//     are retried (see request.replaySafe). A create is never sent twice: NSX assigns ids on
//     create, so a replay would duplicate the object. The caller gets a *TransportError with
//     MayHaveBeenApplied set and must look before creating again.
//
// 502 and 504 (a proxy lost or timed out on the manager) are treated like a dropped connection
// after the write: retried only for replay-safe requests.
//
// TLS verification failures and unknown host names are never retried: waiting does not fix them.

// retryDecision says whether and how long to wait before the next attempt.
type retryDecision struct {
	retry  bool
	reason string
	// retryAfter is the server's Retry-After, zero if absent.
	retryAfter time.Duration
}

func (c *Client) decideRetry(r *request, o *outcome) retryDecision {
	if o.final {
		return retryDecision{}
	}
	if o.apiErr != nil {
		switch o.apiErr.StatusCode {
		case http.StatusTooManyRequests:
			return retryDecision{retry: true, reason: "throttled (429)", retryAfter: o.retryAfter}
		case http.StatusServiceUnavailable:
			return retryDecision{retry: true, reason: "unavailable (503)", retryAfter: o.retryAfter}
		case http.StatusInternalServerError:
			if o.apiErr.hasCode(ErrCodeReconfiguring) {
				return retryDecision{retry: true, reason: "cluster reconfiguring (500/607)"}
			}
		case http.StatusBadRequest:
			if o.apiErr.isPendingDelete() {
				// NSX refused without applying anything; the path frees up once the earlier
				// delete is realized, so waiting helps.
				return retryDecision{retry: true, reason: "path pending delete (400/500045)"}
			}
		case http.StatusBadGateway, http.StatusGatewayTimeout:
			if r.replaySafe {
				return retryDecision{retry: true, reason: "gateway error"}
			}
		}
		return retryDecision{}
	}
	if o.transportErr == nil || permanentTransportError(o.transportErr) {
		return retryDecision{}
	}
	if !o.sent {
		return retryDecision{retry: true, reason: "connection failed before the request was sent"}
	}
	if r.replaySafe {
		return retryDecision{retry: true, reason: "connection failed after the request was sent"}
	}
	return retryDecision{}
}

// backoff returns the wait before retry number n (0-based): the base delay doubled n times,
// capped, then jittered uniformly between half and all of it. Jitter keeps many reconcilers that
// failed together from retrying together; the half floor keeps the wait meaningful.
func (c *Client) backoff(n int) time.Duration {
	d := c.cfg.RetryBaseDelay
	for i := 0; i < n && d < c.cfg.RetryMaxDelay; i++ {
		d *= 2
	}
	d = min(d, c.cfg.RetryMaxDelay)
	half := d / 2
	return half + c.jitter(d-half+1)
}

// waitBeforeRetry combines backoff and Retry-After: never earlier than NSX asked, but never
// longer than MaxRetryAfter because of a header.
func (c *Client) waitBeforeRetry(n int, d retryDecision) time.Duration {
	wait := c.backoff(n)
	if d.retryAfter > wait {
		wait = min(d.retryAfter, max(c.cfg.MaxRetryAfter, wait))
	}
	return wait
}

// parseRetryAfter reads a Retry-After header given in seconds or as an HTTP date.
func parseRetryAfter(h string, now time.Time) time.Duration {
	if h == "" {
		return 0
	}
	if secs, err := strconv.Atoi(h); err == nil {
		if secs <= 0 {
			return 0
		}
		return time.Duration(secs) * time.Second
	}
	if t, err := http.ParseTime(h); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// sleepContext waits for d or until ctx is done, whichever comes first.
func sleepContext(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// randomJitter returns a random duration in [0, n).
func randomJitter(n time.Duration) time.Duration {
	if n <= 0 {
		return 0
	}
	return rand.N(n)
}

// permanentTransportError reports transport failures that retrying cannot fix.
func permanentTransportError(err error) bool {
	var redirect redirectError
	return tlsProblem(err) != tlsNone || isDNSNotFound(err) || errors.As(err, &redirect)
}

type tlsProblemKind int

const (
	tlsNone tlsProblemKind = iota
	tlsUnknownAuthority
	tlsHostnameMismatch
	tlsOtherVerification
	tlsRejectedByServer
)

// tlsProblem classifies TLS failures so that they are reported with a useful hint and not retried.
func tlsProblem(err error) tlsProblemKind {
	var unknownAuthority x509.UnknownAuthorityError
	var hostname x509.HostnameError
	var invalid x509.CertificateInvalidError
	var verification *tls.CertificateVerificationError
	var opErr *net.OpError
	switch {
	case errors.As(err, &unknownAuthority):
		return tlsUnknownAuthority
	case errors.As(err, &hostname):
		return tlsHostnameMismatch
	case errors.As(err, &invalid), errors.As(err, &verification):
		return tlsOtherVerification
	case errors.As(err, &opErr) && opErr.Op == "remote error":
		// crypto/tls reports an alert from the server this way, e.g. "tls: certificate required"
		// or "tls: bad certificate" when NSX does not accept our client certificate.
		return tlsRejectedByServer
	}
	return tlsNone
}

func isDNSNotFound(err error) bool {
	var dnsErr *net.DNSError
	return errors.As(err, &dnsErr) && dnsErr.IsNotFound
}

func isConnRefused(err error) bool {
	return errors.Is(err, syscall.ECONNREFUSED)
}
