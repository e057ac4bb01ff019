// Package web is Budgie's web dashboard: the third front end on the
// engine, beside the CLI (cli/) and nest (app/, views/). The node's keeper
// serves it on web.listen (loopback by default; beyond loopback only over
// TLS with the node's certificate), and every action calls the same
// *engine.Engine method the CLI and nest call.
//
// Pages are rendered on the server (html/template, embedded with embed.FS)
// and kept live by one server-sent-event stream per page, which sends
// changed rows, not reloads. A small hand-written script (static/app.js)
// applies them; there is no build step and nothing is fetched from
// another site.
//
// Everything from a browser is hostile input: every request but the login
// needs a session (an HttpOnly, SameSite=Strict cookie), every write a
// CSRF token and a same-origin request, logins are rate-limited, bodies
// and headers are bounded, names are checked before they reach the engine,
// and no secret value is ever sent to a browser. Each write is logged as
// an audit line in the keeper's log.
package web
