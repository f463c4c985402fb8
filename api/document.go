package api

import (
	"bytes"
	"fmt"
	"net/http"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"

	"github.com/trunkline/trunkline/config"
)

// importResult is the body of a successful POST /config/1/import: how many
// resources of each kind the store holds now.
type importResult struct {
	SIPTrunks           int `json:"sipTrunks"`
	Numbers             int `json:"numbers"`
	Routes              int `json:"routes"`
	CallsConfigurations int `json:"callsConfigurations"`
	Scripts             int `json:"scripts"`
}

// export answers GET /config/1/export with the whole document of DESIGN §3:
// this node's settings (node, sip, dns, media, api, cluster) and the
// replicated resources, as YAML that Parse (and import) take back.
func (h *handler) export(w http.ResponseWriter, r *http.Request) {
	doc := *h.deps.Config.Config() // a shallow copy, only read
	res := h.resources()
	doc.SIPTrunks, doc.Numbers, doc.Routes = res.SIPTrunks, res.Numbers, res.Routes
	doc.CallsConfigurations, doc.Scripts = res.CallsConfigurations, res.Scripts
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(&doc); err != nil {
		h.log.Error("cannot export the configuration", "error", err.Error())
		writeError(w, http.StatusInternalServerError, "cannot write the configuration as YAML: "+err.Error())
		return
	}
	enc.Close()
	w.Header().Set("Content-Type", mediaYAML)
	w.WriteHeader(http.StatusOK)
	w.Write(b.Bytes()) // a write error means the client is gone
}

// importConfig answers POST /config/1/import: the body, a whole document
// (YAML or JSON), is parsed and validated as a configuration file is, then
// replaces every resource in one change. Its node settings must be valid
// but are not applied: every node keeps its own.
func (h *handler) importConfig(w http.ResponseWriter, r *http.Request) {
	body, ok := readBody(w, r, importLimit, yamlMedia)
	if !ok {
		return
	}
	cfg, err := config.Parse("import", body)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error()) // "import: path: reason" lines
		return
	}
	stored, ok := h.apply(w, r, body, config.Change{Op: config.OpImport, Config: cfg})
	if !ok {
		return
	}
	if stored == nil {
		stored = cfg
	}
	writeJSON(w, http.StatusOK, importResult{
		SIPTrunks:           len(stored.SIPTrunks),
		Numbers:             len(stored.Numbers),
		Routes:              len(stored.Routes),
		CallsConfigurations: len(stored.CallsConfigurations),
		Scripts:             len(stored.Scripts),
	})
}

// findScript returns the script with the given id in cfg, or nil.
func findScript(cfg *config.Config, id string) *config.Script {
	if cfg == nil {
		return nil
	}
	for i := range cfg.Scripts {
		if cfg.Scripts[i].ID == id {
			return &cfg.Scripts[i]
		}
	}
	return nil
}

// getScript answers GET /scripts/1/scripts/{id} with the Lua source. A
// script the configuration file names by file has no source in the store:
// 409 says so.
func (h *handler) getScript(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	s := findScript(h.resources(), id)
	switch {
	case s == nil:
		writeError(w, http.StatusNotFound, fmt.Sprintf("no script %q", id))
	case s.Source == "" && s.File != "":
		writeError(w, http.StatusConflict, fmt.Sprintf("script %q is read from the file %s on each node: its source is not in the store (PUT one to replace it)", id, s.File))
	default:
		writeText(w, http.StatusOK, s.Source)
	}
}

// putScript answers PUT /scripts/1/scripts/{id}: the body, Lua source as
// text/plain, creates the script (201) or replaces it (200). A source that
// does not compile is refused with 400 and the Lua error, its line included
// (Deps.Scripts); one that does is hot-loaded on every node once committed.
func (h *handler) putScript(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	body, ok := readBody(w, r, resourceLimit, textMedia)
	if !ok {
		return
	}
	switch {
	case strings.TrimSpace(string(body)) == "":
		writeError(w, http.StatusBadRequest, "the body is empty: want the script's Lua source")
		return
	case !utf8.Valid(body):
		writeError(w, http.StatusBadRequest, "the body is not UTF-8 text")
		return
	}
	if h.deps.Scripts != nil {
		if err := h.deps.Scripts.CheckScript(id, string(body)); err != nil {
			writeError(w, http.StatusBadRequest, err.Error())
			return
		}
	}
	status := http.StatusOK
	if findScript(h.resources(), id) == nil {
		status = http.StatusCreated
	}
	s := &config.Script{ID: id, Source: string(body)}
	cfg, ok := h.apply(w, r, body, config.Change{Op: config.OpPut, Kind: config.KindScript, ID: id, Script: s})
	if !ok {
		return
	}
	if stored := findScript(cfg, id); stored != nil {
		s = stored
	}
	writeText(w, status, s.Source)
}

// deleteScript answers DELETE /scripts/1/scripts/{id}: 204, 404 or 409 when
// a route still names the script.
func (h *handler) deleteScript(w http.ResponseWriter, r *http.Request) {
	if _, ok := h.apply(w, r, nil, config.Change{Op: config.OpDelete, Kind: config.KindScript, ID: r.PathValue("id")}); ok {
		w.WriteHeader(http.StatusNoContent)
	}
}

// writeText writes s as a text/plain body.
func writeText(w http.ResponseWriter, status int, s string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(status)
	w.Write([]byte(s)) // a write error means the client is gone
}
