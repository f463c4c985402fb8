package sbc

import (
	"context"
	"errors"
	"os"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/trunkline/trunkline/config"
	"github.com/trunkline/trunkline/routing"
	"github.com/trunkline/trunkline/scripts"
)

// Lua hooks (DESIGN §6): the scripts of the configuration are compiled by
// a scripts.Engine the server owns, reloaded whenever the configuration
// changes (a SIGHUP re-reads file scripts). A script no route names is
// global and runs for every call; a route's scriptId runs for that route's
// calls, after the global ones, from on_route on. A call takes its scripts
// when it starts: a reload in between does not change them. A hook that
// fails or overruns its budget is logged and counted, and the call goes on
// as if it were absent.

// loadScripts compiles the configuration's scripts into the engine: new
// and changed ones are swapped in, removed ones dropped. A script that does
// not compile is logged and left out (the previous version, if any, stays).
func (s *Server) loadScripts(cfg *config.Config) {
	keep := make(map[string]bool, len(cfg.Scripts))
	for _, sc := range cfg.Scripts {
		keep[sc.ID] = true
		src := sc.Source
		if sc.File != "" {
			b, err := os.ReadFile(sc.File)
			if err != nil {
				s.log.Error("script not loaded", "scriptId", sc.ID, "file", sc.File, "error", err.Error())
				continue
			}
			src = string(b)
		}
		if old := s.scripts.Script(sc.ID); old != nil && old.Source() == src {
			continue
		}
		if err := s.scripts.Load(sc.ID, src); err != nil {
			s.log.Error("script not loaded", "scriptId", sc.ID, "error", err.Error())
			continue
		}
		s.log.Info("script loaded", "scriptId", sc.ID)
	}
	for _, id := range s.scripts.IDs() {
		if !keep[id] {
			s.scripts.Remove(id)
		}
	}
}

// CheckScript compiles a script's source without loading it: what the API
// asks before it stores one (the error names the Lua line).
func (s *Server) CheckScript(id, source string) error {
	_, err := s.scripts.Compile(id, source)
	return err
}

// globalScripts lists the ids of the scripts no route names, in
// configuration order.
func globalScripts(cfg *config.Config) []string {
	used := map[string]bool{}
	for _, r := range cfg.Routes {
		if r.ScriptID != "" {
			used[r.ScriptID] = true
		}
	}
	var out []string
	for _, sc := range cfg.Scripts {
		if !used[sc.ID] {
			out = append(out, sc.ID)
		}
	}
	return out
}

// hooks is a call's scripts and the Lua view of the call they share.
type hooks struct {
	call    scripts.Call
	scripts []*scripts.Script // global ones, then the route's
	headers []scripts.HeaderOp
}

// newHooks takes the call's global scripts; nil when there is none.
func (c *call) newHooks() *hooks {
	var list []*scripts.Script
	for _, id := range c.st.globals {
		if sc := c.s.scripts.Script(id); sc != nil {
			list = append(list, sc)
		}
	}
	if len(list) == 0 && !c.st.routeScripts {
		return nil
	}
	h := &hooks{scripts: list, call: scripts.Call{
		ID: c.id, From: c.from, FromName: c.fromName, To: c.to, Username: c.inv.Recipient.User,
		SIPTrunkID: c.trunk.ID, SourceIP: sourceOf(c.inv).String(),
	}}
	for _, hd := range c.inv.Headers() {
		h.call.Headers = append(h.call.Headers, scripts.Header{Name: hd.Name(), Value: hd.Value()})
	}
	return h
}

// runHook runs one hook of every script of the call, timing it; an error
// is logged and counted, and that script's result ignored.
func (c *call) runHook(hook string, f func(context.Context, *scripts.Script) (scripts.Result, error), apply func(scripts.Result)) {
	for _, sc := range c.hooks.scripts {
		if !sc.Has(hook) {
			continue
		}
		start := time.Now()
		res, err := f(c.ctx, sc)
		c.s.metrics.luaHook.UpdateDuration(start)
		if err != nil {
			c.s.metrics.luaError(sc.ID(), hook)
			attrs := []any{"scriptId", sc.ID(), "hook", hook, "error", err.Error()}
			var le *scripts.Error
			if errors.As(err, &le) && le.Line > 0 {
				attrs = append(attrs, "line", le.Line)
			}
			c.log.Warn("script hook failed: the call goes on without it", attrs...)
			continue
		}
		if apply != nil {
			apply(res)
		}
	}
}

// hookInvite runs on_invite: it may reject the call, change its numbers,
// headers and route. It returns the rejection, nil to go on.
func (c *call) hookInvite() *rejection {
	var rej *rejection
	c.runHook(scripts.HookInvite, func(ctx context.Context, sc *scripts.Script) (scripts.Result, error) {
		return sc.OnInvite(ctx, &c.hooks.call)
	}, func(res scripts.Result) {
		c.hooks.headers = append(c.hooks.headers, res.Headers...)
		// A number a script sets is the number: no format's raw
		// spelling of the old one survives.
		if res.To != "" {
			c.toRaw = res.To
			c.to = routing.Normalize(c.trunk.NumberFormat, c.trunk.CountryCode, res.To)
		}
		if res.From != nil {
			c.fromRaw = res.From.Number
			c.from = routing.Normalize(c.trunk.NumberFormat, c.trunk.CountryCode, res.From.Number)
			if res.From.Display != "" {
				c.fromName = res.From.Display
			}
		}
		if r := res.Rejected; r != nil && rej == nil {
			rej = &rejection{code: r.Code, reason: r.Reason}
		}
	})
	return rej
}

// hookRoute runs on_route on the decision's plan, adding the route's
// script first: a plan a script returns replaces it, without attempts on
// trunks that do not exist.
func (c *call) hookRoute() {
	if r := c.decision.Route; r != nil {
		if rt := c.st.routes.Route(*r); rt != nil && rt.ScriptID != "" {
			if sc := c.s.scripts.Script(rt.ScriptID); sc != nil {
				c.hooks.scripts = append(c.hooks.scripts, sc)
			}
		}
	}
	c.runHook(scripts.HookRoute, func(ctx context.Context, sc *scripts.Script) (scripts.Result, error) {
		return sc.OnRoute(ctx, &c.hooks.call, c.decision.Attempts)
	}, func(res scripts.Result) {
		if !res.PlanReplaced {
			return
		}
		plan := make([]routing.Attempt, 0, len(res.Plan))
		for _, a := range res.Plan {
			if a.SIPTrunkID != "" && c.st.routes.Trunk(a.SIPTrunkID) == nil {
				c.log.Warn("script plan: attempt on an unknown trunk dropped", "sipTrunkId", a.SIPTrunkID)
				continue
			}
			plan = append(plan, a)
		}
		c.decision.Attempts = plan
	})
}

// hookAttempt runs on_attempt for one outbound INVITE and stamps on it the
// headers on_invite and on_attempt set.
func (c *call) hookAttempt(att *attempt, req *sip.Request) {
	ops := c.hooks.headers
	c.runHook(scripts.HookAttempt, func(ctx context.Context, sc *scripts.Script) (scripts.Result, error) {
		return sc.OnAttempt(ctx, &c.hooks.call, att.plan)
	}, func(res scripts.Result) { ops = append(ops, res.Headers...) })
	for _, op := range ops {
		req.RemoveHeader(op.Name)
		if !op.Remove {
			req.AppendHeader(sip.NewHeader(op.Name, op.Value))
		}
	}
}

// hookAnswer runs on_answer.
func (c *call) hookAnswer() {
	c.runHook(scripts.HookAnswer, func(ctx context.Context, sc *scripts.Script) (scripts.Result, error) {
		return scripts.Result{}, sc.OnAnswer(ctx, &c.hooks.call)
	}, nil)
}

// hookEnd runs on_end with the A leg's record.
func (c *call) hookEnd(a *CallLog) {
	log := scripts.EndLog{State: a.State, Code: a.SIPCode, Reason: a.Reason, Start: a.StartTime, End: a.EndTime}
	if a.AnswerTime != nil {
		log.Answer = *a.AnswerTime
	}
	if c.b != nil {
		log.SIPTrunkID = c.b.trunk.ID
	} else if n := len(c.attempts); n > 0 {
		log.SIPTrunkID = c.attempts[n-1].trunk.ID
	}
	// The call's context may be over by now: on_end gets its own budget.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(c.ctx), time.Second)
	defer cancel()
	c.runHook(scripts.HookEnd, func(_ context.Context, sc *scripts.Script) (scripts.Result, error) {
		return scripts.Result{}, sc.OnEnd(ctx, &c.hooks.call, log)
	}, nil)
}

// hookHeaders are the call's headers for routing criteria: as received, or
// as on_invite left them.
func (c *call) hookHeaders() []routing.Header {
	out := make([]routing.Header, 0, len(c.hooks.call.Headers))
	for _, h := range c.hooks.call.Headers {
		if strings.TrimSpace(h.Name) != "" {
			out = append(out, routing.Header{Name: h.Name, Value: h.Value})
		}
	}
	return out
}
