// SPDX-License-Identifier: MPL-2.0

package atlas

import "context"

// heldTokenKey carries, in a request's context, the token that
// tokenBeforeAttempt got for it.
type heldTokenKey struct{}

// tokenBeforeAttempt makes sure a service-account client holds a token
// before an attempt starts its own timers: a token request may have to
// wait out the token endpoint's rate limit (up to a minute), which the
// operation's deadline bounds, not one exchange's timeout. The token rides
// in the returned context to the transport, which then asks for none.
func (c *Client) tokenBeforeAttempt(ctx context.Context) (context.Context, error) {
	if c.bearer == nil || c.bearer.static != "" {
		return ctx, nil
	}
	tok, err := c.bearer.token(ctx, "")
	if err != nil {
		if ctx.Err() != nil {
			return ctx, &NotSentError{Err: ctx.Err()}
		}
		return ctx, err
	}
	return context.WithValue(ctx, heldTokenKey{}, tok), nil
}

// heldToken is the token tokenBeforeAttempt put in ctx, or "".
func heldToken(ctx context.Context) string {
	tok, _ := ctx.Value(heldTokenKey{}).(string)
	return tok
}
