// Vigil's on-call console: one page, no framework, nothing from outside this origin.
// The tenant key lives in this tab's sessionStorage and goes only into Authorization
// headers. Every value from the API is put into the page as text (never as HTML).
"use strict";

const KEY = "vigil.key";
const REFRESH_MS = 15000; // pages that change by the clock reload this often (keepCurrent)
const RETRY_MS = 3000; // and this soon after a load failed
const state = {
  who: null,           // {tenant, name, key}
  view: null,          // the current view's name
  incidents: [],       // the list shown, newest first
  selected: 0,         // the highlighted row of the list
  incident: null,      // the incident page's incident
  stream: null,        // the live stream's AbortController
  position: null,      // the live stream's last position
  listeners: new Set(),// called with each batch of incident changes
  pendingG: false,     // "g" pressed: waiting for the view's letter
};

// -- small helpers -------------------------------------------------------------------

function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith("on")) el.addEventListener(name.slice(2), value);
    else if (name === "class") el.className = value;
    else el.setAttribute(name, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

function ago(iso) {
  if (!iso) return "";
  const seconds = Math.max(0, (Date.now() - Date.parse(iso)) / 1000);
  if (seconds < 60) return `${Math.floor(seconds)}s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m`;
  if (seconds < 86400) return `${Math.floor(seconds / 3600)}h ${Math.floor((seconds % 3600) / 60)}m`;
  return `${Math.floor(seconds / 86400)}d`;
}

function clock(iso) {
  return iso ? new Date(iso).toLocaleString([], { hour12: false }) : "";
}

function title(incident) {
  const labels = incident.group_labels || {};
  const name = labels.alertname;
  const rest = Object.entries(labels).filter(([k]) => k !== "alertname").map(([k, v]) => `${k}=${v}`);
  return [name || "(no alertname)", rest.join(", ")].filter(Boolean).join("  ");
}

function labelChips(labels) {
  return h("span", { class: "labels" },
    Object.entries(labels || {}).map(([k, v]) => h("span", { class: "label" }, `${k}="${v}"`)));
}

function banner(message, kind) {
  const el = document.getElementById("banner");
  el.textContent = message;
  el.className = kind || "";
  el.hidden = !message;
  if (message && kind === "info") setTimeout(() => { if (el.textContent === message) el.hidden = true; }, 4000);
}

// -- the API ---------------------------------------------------------------------------

class ApiError extends Error {
  constructor(status, message) { super(message); this.status = status; }
}

async function api(method, path, body) {
  const key = sessionStorage.getItem(KEY);
  const headers = { Authorization: `Bearer ${key}` };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), cache: "no-store" });
  } catch (err) {
    throw new ApiError(0, `Vigil cannot be reached (${err.message})`);
  }
  if (response.status === 401) {
    signOut("Your key was refused (401): sign in again.");
    throw new ApiError(401, "signed out");
  }
  const text = await response.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = null; }
  if (!response.ok) {
    const details = data && data.details ? " — " + data.details.map((d) => `${d.field}: ${d.message}`).join("; ") : "";
    const message = data && (data.message || data.error) ? `${data.message || data.error}${details}` : `${response.status} ${response.statusText}`;
    throw new ApiError(response.status, `${message} (HTTP ${response.status})`);
  }
  return data;
}

async function graphql(query, variables) {
  const data = await api("POST", "/graphql", { query, variables: variables || {} });
  if (data.errors && data.errors.length) throw new ApiError(data.errors[0].extensions?.status || 400, data.errors[0].message);
  return data.data;
}

// Runs an action, showing the API's refusal in words if it fails.
async function attempt(what, action) {
  try {
    const result = await action();
    banner("");
    return result;
  } catch (err) {
    if (err.status !== 401) banner(`${what} failed: ${err.message}`);
    return undefined;
  }
}

// Keeps a page current while it is shown: ``fetch`` now, then again every REFRESH_MS,
// or RETRY_MS after a fetch that was not ``complete`` (by default: it returned
// undefined, nothing loaded), until the page (``page``, an element the view made) has
// left the document. Silences start and end, on-call shifts hand over and the noise
// figures grow by the clock, with no incident change to announce them; and one failed
// load (Vigil busy, or away for a moment) must not leave a page empty or stale for
// good. ``render`` gets whatever loaded, complete or not. Returns the load, for a
// page's own action to call at once: one timer stays armed.
function keepCurrent(page, fetch, render, complete = (got) => got !== undefined) {
  let timer = null;
  async function load() {
    const got = await fetch();
    if (!page.isConnected) return; // another view (or a newer one) took over
    clearTimeout(timer);
    timer = setTimeout(load, complete(got) ? REFRESH_MS : RETRY_MS);
    if (got !== undefined) render(got);
  }
  return load;
}

// -- the live stream ---------------------------------------------------------------------

// Reads /api/v1/incidents/updates with fetch (an EventSource cannot send the key in a
// header) and reconnects from its last position, so no change is missed.
async function follow() {
  const controller = new AbortController();
  state.stream = controller;
  const live = document.getElementById("live");
  while (!controller.signal.aborted) {
    try {
      const query = state.position ? `?after=${encodeURIComponent(state.position)}` : "";
      const response = await fetch(`/api/v1/incidents/updates${query}`, {
        headers: { Authorization: `Bearer ${sessionStorage.getItem(KEY)}` },
        signal: controller.signal, cache: "no-store",
      });
      if (response.status === 401) { signOut("Your key was refused (401): sign in again."); return; }
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      live.textContent = "● live"; live.className = "live on";
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value;
        let end;
        while ((end = buffer.indexOf("\n\n")) >= 0) {
          const chunk = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          onEvent(chunk);
        }
      }
    } catch (err) {
      if (controller.signal.aborted) return;
    }
    live.textContent = "○ reconnecting"; live.className = "live";
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

function onEvent(chunk) {
  let event = "message", data = "";
  for (const line of chunk.split("\n")) {
    if (line.startsWith("event: ")) event = line.slice(7);
    else if (line.startsWith("data: ")) data += line.slice(6);
  }
  if (!data) return;
  const payload = JSON.parse(data);
  if (payload.position) state.position = payload.position;
  if (event === "incidents") for (const listener of state.listeners) listener(payload);
}

function onChanges(listener) {
  state.listeners.clear();
  state.listeners.add(listener);
}

// -- signing in and out ------------------------------------------------------------------

async function signIn(key) {
  sessionStorage.setItem(KEY, key);
  try {
    state.who = await api("GET", "/api/v1/whoami");
  } catch (err) {
    sessionStorage.removeItem(KEY);
    document.getElementById("sign-in-error").textContent =
      err.status === 401 || err.message === "signed out" ? "That key was refused: check it and try again." : err.message;
    return;
  }
  document.getElementById("sign-in").hidden = true;
  document.getElementById("top").hidden = false;
  document.getElementById("who").textContent = `${state.who.name} · ${state.who.key}`;
  document.getElementById("key").value = "";
  state.position = null;
  follow();
  route();
}

function signOut(message) {
  sessionStorage.removeItem(KEY);
  if (state.stream) state.stream.abort();
  state.stream = null; state.who = null; state.position = null; state.incidents = []; state.incident = null;
  state.listeners.clear();
  document.getElementById("top").hidden = true;
  document.getElementById("view").replaceChildren();
  banner("");
  document.getElementById("sign-in").hidden = false;
  document.getElementById("sign-in-error").textContent = message || "";
  if (location.hash) history.replaceState(null, "", location.pathname);
  document.getElementById("key").focus();
}

// -- views -----------------------------------------------------------------------------

const views = { incidents: incidentsView, incident: incidentView, silences: silencesView, "new-silence": newSilenceView, oncall: oncallView, health: healthView };

function route() {
  if (!state.who) return;
  const [name, arg] = (location.hash.replace(/^#\//, "") || "incidents").split("/");
  const view = views[name] ? name : "incidents";
  state.view = view;
  for (const link of document.querySelectorAll("nav a")) {
    link.toggleAttribute("aria-current", link.dataset.view === (view === "incident" ? "incidents" : view === "new-silence" ? "silences" : view));
    if (link.hasAttribute("aria-current")) link.setAttribute("aria-current", "page");
  }
  const main = document.getElementById("view");
  main.replaceChildren(h("p", { class: "empty" }, "Loading…"));
  state.listeners.clear();
  views[view](main, arg ? decodeURIComponent(arg) : undefined);
}

const filters = { state: "open", severity: "", receiver: "", matchers: "" };

async function incidentsView(main) {
  const stateSelect = h("select", { id: "f-state", onchange: (e) => { filters.state = e.target.value; load(); } },
    ["open", "triggered", "acknowledged", "resolved", "all"].map((s) => h("option", { value: s, selected: filters.state === s }, s)));
  const severitySelect = h("select", { id: "f-severity", onchange: (e) => { filters.severity = e.target.value; load(); } },
    ["", "critical", "warning", "info"].map((s) => h("option", { value: s, selected: filters.severity === s }, s || "any")));
  const receiverInput = h("input", { id: "f-receiver", placeholder: "any", value: filters.receiver, onchange: (e) => { filters.receiver = e.target.value.trim(); load(); } });
  const matcherInput = h("input", { id: "f-matchers", size: 36, placeholder: 'service="db", env=~"prod.*"', value: filters.matchers, onchange: (e) => { filters.matchers = e.target.value.trim(); load(); } });
  const count = h("span", { class: "empty" });
  const body = h("tbody");
  main.replaceChildren(
    h("h1", {}, "Incidents"),
    h("div", { class: "filters" },
      h("label", {}, "State", stateSelect), h("label", {}, "Severity", severitySelect),
      h("label", {}, "Receiver", receiverInput), h("label", {}, "Label matchers", matcherInput), count),
    h("table", { id: "incidents" },
      h("thead", {}, h("tr", {}, ["Severity", "State", "Incident", "Receiver", "Alerts", "Risk", "Level", "Age"].map((c) => h("th", {}, c)))),
      body));

  let timer = null;
  async function load() {
    const params = new URLSearchParams({ limit: "200" });
    const states = filters.state === "open" ? ["triggered", "acknowledged"] : filters.state === "all" ? [] : [filters.state];
    for (const s of states) params.append("state", s);
    if (filters.severity) params.append("severity", filters.severity);
    if (filters.receiver) params.append("receiver", filters.receiver);
    if (filters.matchers) params.append("filter", filters.matchers);
    const page = await attempt("Loading incidents", () => api("GET", `/api/v1/incidents?${params}`));
    if (!page || state.view !== "incidents") return;
    state.incidents = page.items;
    state.selected = Math.min(state.selected, Math.max(0, page.items.length - 1));
    count.textContent = `${page.total} incident${page.total === 1 ? "" : "s"}`;
    body.replaceChildren(...(page.items.length ? page.items.map(row) : [h("tr", {}, h("td", { colspan: 8, class: "empty" }, "No incidents match."))]));
    highlight();
  }
  function row(incident, index) {
    const escalation = incident.escalation;
    return h("tr", { class: "incident", "data-id": incident.id, onclick: () => { state.selected = index; open(); } },
      h("td", {}, h("span", { class: `sev sev-${incident.severity}` }, incident.severity)),
      h("td", {}, h("span", { class: `state state-${incident.state}` }, incident.state), incident.muted ? h("span", { class: "muted-tag" }, "muted") : null),
      h("td", {}, h("a", { href: `#/incident/${encodeURIComponent(incident.id)}` }, title(incident))),
      h("td", {}, incident.receiver),
      h("td", {}, `${incident.firing}/${incident.alerts}`),
      h("td", incident.risk_provisional ? { class: "provisional", title: `provisional: ${incident.risk_provisional}` } : {}, riskText(incident)),
      h("td", {}, escalation ? `L${escalation.level}${escalation.active ? "" : " ■"}` : "—"),
      h("td", { title: clock(incident.created_at) }, ago(incident.created_at)));
  }
  onChanges(() => { clearTimeout(timer); timer = setTimeout(load, 250); });
  await load();
}

function riskText(incident) {
  // A provisional risk (a model that has not earned trust for this tenant) is marked,
  // never shown as if it were a measured probability.
  if (incident.risk === null) return "—";
  return `${Math.round(incident.risk * 100)}%${incident.risk_provisional ? " ?" : ""}`;
}

function highlight() {
  const rows = document.querySelectorAll("#incidents tr.incident");
  rows.forEach((r, i) => r.classList.toggle("selected", i === state.selected));
  if (rows[state.selected]) rows[state.selected].scrollIntoView({ block: "nearest" });
}

function open() {
  const incident = state.incidents[state.selected];
  if (incident) location.hash = `#/incident/${encodeURIComponent(incident.id)}`;
}

async function incidentView(main, id) {
  let policies = null;
  async function load() {
    const incident = await attempt("Loading the incident", () => api("GET", `/api/v1/incidents/${encodeURIComponent(id)}`));
    if (state.view !== "incident") return;
    if (!incident) {
      main.replaceChildren(h("h1", {}, "Incident not found"), h("p", {}, h("a", { href: "#/incidents" }, "Back to the incidents")));
      state.incident = null;
      return;
    }
    state.incident = incident;
    if (policies === null) {
      const found = await attempt("Loading escalation policies", () => graphql(
        "{ escalationRules { name levels { level targets { channel schedule } escalateAfter } } schedules { id now { user until } next { user } } }"));
      policies = found || { escalationRules: [], schedules: [] };
    }
    render(incident);
  }
  function render(incident) {
    const open = incident.state !== "resolved";
    const escalation = incident.escalation;
    const act = (what, method, path, body) => async () => {
      const done = await attempt(what, () => api(method, `/api/v1/incidents/${encodeURIComponent(incident.id)}${path}`, body));
      if (done) { banner(`${what}: done`, "info"); await load(); }
    };
    main.replaceChildren(
      h("p", {}, h("a", { href: "#/incidents" }, "← Incidents")),
      h("h1", {}, h("span", { class: `sev sev-${incident.severity}` }, incident.severity), " ", title(incident)),
      h("div", { class: "actions" },
        h("button", { id: "acknowledge", class: "primary", disabled: incident.state !== "triggered", onclick: act("Acknowledge", "POST", "/acknowledge") }, "Acknowledge (a)"),
        h("button", { id: "resolve", disabled: !open, onclick: act("Resolve", "POST", "/resolve") }, "Resolve (r)"),
        h("button", { id: "escalate", class: "danger", disabled: !open, onclick: act("Escalate now", "PUT", "/escalate") }, "Escalate now (e)"),
        h("button", { id: "actionable", onclick: act("Feedback", "POST", "/feedback", { verdict: "actionable" }) }, "Actionable"),
        h("button", { id: "noise", onclick: act("Feedback", "POST", "/feedback", { verdict: "noise" }) }, "Noise")),
      h("div", { class: "facts" },
        fact("State", h("span", { class: `state state-${incident.state}`, id: "incident-state" }, incident.state), incident.acknowledged_by ? `by ${incident.acknowledged_by}` : ""),
        fact("Risk", riskText(incident), incident.risk_model ? (incident.risk_provisional ? `provisional: ${incident.risk_provisional}` : `model ${incident.risk_model}`) : "no model scored it"),
        fact("Escalation", escalation ? `level ${escalation.level}` : "none", escalation ? `${escalation.policy}${escalation.paused ? " · paused (muted)" : ""}${escalation.next_due ? " · next " + clock(escalation.next_due) : escalation.active ? "" : " · stopped"}` : ""),
        fact("Alerts", `${incident.firing} firing / ${incident.alerts}`, incident.muted ? `muted by ${incident.muted_by.join(", ")}` : `${incident.suppressed} suppressed`),
        fact("Age", ago(incident.created_at), clock(incident.created_at)),
        fact("Feedback", incident.feedback || "—", incident.feedback_by || "")),
      h("div", { class: "two" },
        h("div", {}, h("h2", {}, "Who was paged"), paged(incident), h("h2", {}, "On call now"), onCallFor(escalation)),
        h("div", {}, h("h2", {}, "Members"), members(incident))),
      h("h2", {}, "Timeline", incident.timeline_dropped ? ` (${incident.timeline_dropped} older entries dropped)` : ""),
      h("ol", { class: "timeline", id: "timeline" }, incident.timeline.slice().reverse().map((e) =>
        h("li", { "data-event": e.event }, h("time", { title: clock(e.at) }, clock(e.at).split(", ").pop()), h("span", { class: `event event-${e.event}` }, e.event.replaceAll("_", " ")),
          h("span", {}, [e.detail, e.by ? `by ${e.by}` : null].filter(Boolean).join(" · "))))));
  }
  function fact(name, value, note) {
    return h("div", { class: "fact" }, h("span", {}, name), h("b", {}, value), h("span", {}, note || ""));
  }
  function paged(incident) {
    const delivered = incident.timeline.filter((e) => e.event === "delivered" || e.event === "escalated" || e.event === "on_call" || e.event === "delivery_failed");
    const people = incident.escalation && incident.escalation.people ? Object.entries(incident.escalation.people) : [];
    if (!delivered.length && !people.length) return h("p", { class: "empty" }, "Nobody yet.");
    return h("ul", {},
      people.map(([level, users]) => h("li", {}, `Level ${level}: ${users.join(", ")}`)),
      delivered.map((e) => h("li", {}, `${clock(e.at).split(", ").pop()} ${e.event.replaceAll("_", " ")}: ${e.detail || ""}`)));
  }
  function onCallFor(escalation) {
    const rule = escalation && policies ? policies.escalationRules.find((r) => r.name === escalation.policy) : null;
    const schedules = rule ? [...new Set(rule.levels.flatMap((l) => l.targets.map((t) => t.schedule)).filter(Boolean))] : [];
    if (!schedules.length) return h("p", { class: "empty" }, rule ? `Policy ${rule.name} pages channels, not a schedule.` : "No escalation policy.");
    return h("ul", {}, schedules.map((name) => {
      const found = policies.schedules.find((s) => s.id === name);
      return h("li", {}, `${name}: `, h("b", {}, found && found.now.user ? found.now.user : "nobody"), found && found.next ? ` (next: ${found.next.user || "nobody"})` : "");
    }));
  }
  function members(incident) {
    return h("table", { id: "members" },
      h("thead", {}, h("tr", {}, ["Alert", "Status", "Joined because", "Muted by", ""].map((c) => h("th", {}, c)))),
      h("tbody", {}, incident.members.map((m) => h("tr", { "data-fingerprint": m.fingerprint },
        h("td", {}, labelChips(m.labels)),
        h("td", {}, m.status, m.flapping ? " (flapping)" : ""),
        h("td", {}, m.reason, m.detail ? ` — ${m.detail}` : ""),
        h("td", { class: "muted-by" }, [...m.silenced_by.map((s) => `silence ${s.slice(0, 8)}`), ...m.inhibited_by.map((s) => `inhibited by ${s.slice(0, 8)}`)].join(", ") || "—"),
        h("td", {}, h("button", { class: "silence-member", onclick: () => { newSilenceFrom = m.labels; location.hash = "#/new-silence"; } }, "Silence…"))))));
  }
  onChanges((batch) => {
    if (batch.gap || batch.incidents.some((i) => i.id === id) || batch.removed.includes(id)) load();
  });
  await load();
}

let newSilenceFrom = null;

async function silencesView(main) {
  const body = h("tbody");
  main.replaceChildren(
    h("h1", {}, "Silences"),
    h("div", { class: "actions" }, h("a", { href: "#/new-silence" }, h("button", { class: "primary", id: "new-silence" }, "New silence"))),
    h("table", { id: "silences" }, h("thead", {}, h("tr", {}, ["State", "Matchers", "Ends", "Created by", "Comment", ""].map((c) => h("th", {}, c)))), body));
  let shown = null; // what the rows show: a refresh that changed nothing leaves them (and a button under the pointer) alone
  const load = keepCurrent(body, () => attempt("Loading silences", () => api("GET", "/api/v2/silences")), (silences) => {
    const seen = JSON.stringify(silences);
    if (seen === shown) return;
    shown = seen;
    const order = { active: 0, pending: 1, expired: 2 };
    silences.sort((a, b) => order[a.status.state] - order[b.status.state] || Date.parse(b.endsAt) - Date.parse(a.endsAt));
    body.replaceChildren(...(silences.length ? silences.map((s) => h("tr", { "data-id": s.id },
      h("td", {}, s.status.state),
      h("td", {}, h("span", { class: "labels" }, s.matchers.map((m) => h("span", { class: "label" }, `${m.name}${m.isEqual === false ? "!" : ""}${m.isRegex ? "=~" : "="}"${m.value}"`)))),
      h("td", { title: clock(s.endsAt) }, clock(s.endsAt)),
      h("td", {}, s.createdBy), h("td", {}, s.comment),
      h("td", {}, s.status.state === "expired" ? "" : h("button", { class: "danger expire", onclick: async () => {
        if (await attempt("Expire", () => api("DELETE", `/api/v2/silence/${encodeURIComponent(s.id)}`)) !== undefined) { banner("Silence expired", "info"); load(); }
      } }, "Expire")))) : [h("tr", {}, h("td", { colspan: 6, class: "empty" }, "No silences."))]));
  });
  await load();
}

function matchersOf(labels) {
  return Object.entries(labels || {}).map(([k, v]) => `${k}="${v.replaceAll("\\", "\\\\").replaceAll('"', '\\"')}"`).join("\n");
}

async function newSilenceView(main) {
  const matchers = h("textarea", { id: "silence-matchers", rows: 5, cols: 60, spellcheck: "false" }, matchersOf(newSilenceFrom));
  newSilenceFrom = null;
  const duration = h("select", { id: "silence-duration" }, [["1h", 1], ["2h", 2], ["4h", 4], ["8h", 8], ["1d", 24], ["1w", 168]].map(([t, hours]) => h("option", { value: hours }, t)));
  const comment = h("input", { id: "silence-comment", size: 60, required: true, placeholder: "why (a ticket, a maintenance)" });
  const preview = h("div", { id: "silence-preview", class: "panel" }, h("p", { class: "empty" }, "Matching alerts appear here."));
  const lines = () => matchers.value.split("\n").map((l) => l.trim()).filter(Boolean);
  async function showPreview() {
    if (!lines().length) { preview.replaceChildren(h("p", { class: "empty" }, "Give at least one matcher.")); return; }
    const params = new URLSearchParams();
    for (const l of lines()) params.append("filter", l);
    params.append("silenced", "true"); params.append("inhibited", "true");
    const alerts = await attempt("Preview", () => api("GET", `/api/v2/alerts?${params}`));
    if (!alerts) { preview.replaceChildren(h("p", { class: "error" }, "The matchers do not parse: see the message above.")); return; }
    preview.replaceChildren(h("b", { id: "preview-count" }, `This silence would mute ${alerts.length} active alert${alerts.length === 1 ? "" : "s"}:`),
      h("ul", {}, alerts.slice(0, 50).map((a) => h("li", {}, labelChips(a.labels)))));
  }
  let timer = null;
  matchers.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(showPreview, 300); });
  const form = h("form", { class: "silence", onsubmit: async (event) => {
    event.preventDefault();
    const hours = Number(duration.value);
    const parsed = lines().map(parseMatcher);
    if (parsed.some((m) => m === null)) { banner("Each line must be a matcher like service=\"db\" or env=~\"prod.*\"."); return; }
    const body = { matchers: parsed, startsAt: new Date().toISOString(), endsAt: new Date(Date.now() + hours * 3600e3).toISOString(), createdBy: state.who.key, comment: comment.value };
    const done = await attempt("Create the silence", () => api("POST", "/api/v2/silences", body));
    if (done) { banner(`Silence ${done.silenceID.slice(0, 8)} created`, "info"); location.hash = "#/silences"; }
  } },
    h("label", {}, "Matchers, one per line", matchers), h("label", {}, "For", duration), h("label", {}, "Comment", comment),
    h("div", { class: "actions" }, h("button", { type: "submit", class: "primary", id: "create-silence" }, "Create silence"), h("a", { href: "#/silences" }, "Cancel")));
  main.replaceChildren(h("h1", {}, "New silence"), h("div", { class: "panel" }, form), h("h2", {}, "What it would mute"), preview);
  await showPreview();
}

function parseMatcher(line) {
  const m = line.match(/^\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"\s*$/) || line.match(/^\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*([^"\s]*)\s*$/);
  if (!m) return null;
  const value = m[3].replace(/\\(.)/g, "$1");
  return { name: m[1], value, isRegex: m[2].includes("~"), isEqual: !m[2].startsWith("!") };
}

async function oncallView(main) {
  const page = h("div", { id: "oncall" }, h("p", { class: "empty" }, "Loading…"));
  main.replaceChildren(h("h1", {}, "On call"), page);
  const load = keepCurrent(page, () => attempt("Loading schedules", () => graphql(
    "{ schedules { id timeZone layers now { user source until } next { user until } } escalationRules { name levels { level targets { schedule } } } }")),
  (found) => page.replaceChildren(
    found.schedules.length ? h("table", { id: "schedules" },
      h("thead", {}, h("tr", {}, ["Schedule", "On call now", "Until", "Next", "Layers", "Used by"].map((c) => h("th", {}, c)))),
      h("tbody", {}, found.schedules.map((s) => h("tr", {},
        h("td", {}, s.id, h("br"), h("small", {}, s.timeZone)),
        h("td", {}, h("b", {}, s.now.user || "nobody"), s.now.source ? ` (${s.now.source})` : ""),
        h("td", {}, clock(s.now.until)),
        h("td", {}, s.next ? `${s.next.user || "nobody"} until ${clock(s.next.until)}` : "—"),
        h("td", {}, s.layers.join(", ")),
        h("td", {}, found.escalationRules.filter((r) => r.levels.some((l) => l.targets.some((t) => t.schedule === s.id))).map((r) => r.name).join(", ") || "—")))))
      : h("p", { class: "empty" }, "This tenant has no on-call schedules (vigil.yaml: schedules).")));
  await load();
}

async function healthView(main) {
  const page = h("div", { id: "health" }, h("p", { class: "empty" }, "Loading…"));
  main.replaceChildren(h("h1", {}, "Noise & health"), page);
  // Four parts: what did load is shown, a part that failed shows "—", and the page
  // loads again soon.
  const load = keepCurrent(page, () => Promise.all([
    attempt("Loading noise figures", () => api("GET", "/api/v1/noise")),
    attempt("Loading the model", () => api("GET", "/api/v1/models")),
    attempt("Loading alerts", () => api("GET", "/api/v1/critical-alerts?limit=1000")),
    attempt("Loading incidents", () => api("GET", "/api/v1/incidents?limit=1000")),
  ]), (got) => renderHealth(page, ...got), (got) => !got.includes(undefined));
  await load();
}

function renderHealth(page, noise, models, alerts, incidents) {
  const figure = (value) => (noise ? String(value ?? 0) : "—"); // never a 0 that was not counted
  const figures = noise || {};
  const reduction = figures.received ? `${Math.round((1 - (figures.incidents || 0) / figures.received) * 100)}%` : "0%";
  const serving = models && models.serving ? models.serving.model : null;
  const card = models && serving ? models.models.find((m) => m.version === serving) : null;
  page.replaceChildren(
    h("div", { class: "facts", id: "noise" },
      [["received", "alerts received"], ["duplicates", "duplicates folded"], ["incidents", "incidents formed"], ["open_incidents", "open now"],
       ["suppressed_by_silence", "muted by silences"], ["suppressed_by_inhibition", "muted by inhibition"], ["flapping_held", "flapping held"], ["notifications", "notifications sent"]]
        .map(([k, label]) => h("div", { class: "fact", "data-figure": k }, h("span", {}, label), h("b", {}, figure(figures[k])))),
      h("div", { class: "fact" }, h("span", {}, "alerts per incident"), h("b", {}, figure(figures.alerts_per_incident))),
      h("div", { class: "fact" }, h("span", {}, "fewer things to look at"), h("b", {}, noise ? reduction : "—"))),
    h("h2", {}, "Alerts vs incidents, last 24 hours"),
    chart(alerts ? alerts.items.map((a) => a.first_seen) : [], incidents ? incidents.items.map((i) => i.created_at) : []),
    h("h2", {}, "Risk model in service"),
    h("div", { class: "panel", id: "model" }, !models ? "—" : !models.enabled ? "ML is off (CRITICAL_ALERT_ML_ENABLED=false)." :
      !serving ? `No model serves${models.serving && models.serving.problem ? ": " + models.serving.problem : "."}` :
      h("div", {}, h("p", {}, h("b", {}, serving), card ? ` · ${card.examples} examples · threshold ${card.threshold}` : "", card && card.notes ? ` · ${card.notes}` : ""),
        card ? h("table", {}, h("tbody", {}, Object.entries(card.metrics).map(([k, v]) => h("tr", {}, h("td", {}, k), h("td", {}, typeof v === "number" ? v.toFixed(3) : String(v)))))) : null)));
}

// An SVG of hourly counts: alerts (first seen) and incidents (created), 24 bars each.
function chart(alertTimes, incidentTimes) {
  const ns = "http://www.w3.org/2000/svg";
  const now = Date.now(), hours = 24, width = 960, height = 200, pad = 28;
  const bucket = (times) => {
    const counts = new Array(hours).fill(0);
    for (const t of times) {
      const age = (now - Date.parse(t)) / 3600e3;
      if (age >= 0 && age < hours) counts[hours - 1 - Math.floor(age)] += 1;
    }
    return counts;
  };
  const a = bucket(alertTimes), i = bucket(incidentTimes);
  const top = Math.max(1, ...a, ...i);
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  svg.setAttribute("class", "chart");
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", `alerts and incidents per hour; ${a.reduce((x, y) => x + y, 0)} alerts, ${i.reduce((x, y) => x + y, 0)} incidents`);
  const slot = (width - 2 * pad) / hours;
  const bar = (n, k, count, color) => {
    const r = document.createElementNS(ns, "rect");
    const barHeight = (count / top) * (height - 2 * pad);
    r.setAttribute("x", pad + n * slot + k * slot * 0.42 + slot * 0.08);
    r.setAttribute("y", height - pad - barHeight);
    r.setAttribute("width", slot * 0.38);
    r.setAttribute("height", barHeight);
    r.setAttribute("fill", color);
    const tip = document.createElementNS(ns, "title");
    tip.textContent = `${count}`;
    r.append(tip);
    svg.append(r);
  };
  a.forEach((count, n) => bar(n, 0, count, "#93c5fd"));
  i.forEach((count, n) => bar(n, 1, count, "#b91c1c"));
  const text = (x, y, value) => { const t = document.createElementNS(ns, "text"); t.setAttribute("x", x); t.setAttribute("y", y); t.setAttribute("font-size", "11"); t.setAttribute("fill", "#6b7280"); t.textContent = value; svg.append(t); };
  text(pad, 14, `${top} per hour`); text(pad, height - 8, "24 h ago"); text(width - pad - 24, height - 8, "now");
  return h("div", {}, svg, h("div", { class: "legend" }, h("span", {}, h("span", { class: "swatch swatch-alerts" }), "alerts"), h("span", {}, h("span", { class: "swatch swatch-incidents" }), "incidents")));
}

// -- the keyboard ----------------------------------------------------------------------

function onKey(event) {
  if (!state.who || event.ctrlKey || event.metaKey || event.altKey) return;
  const typing = ["INPUT", "TEXTAREA", "SELECT"].includes(event.target.tagName);
  if (event.key === "Escape") {
    if (typing) event.target.blur();
    else if (state.view !== "incidents") location.hash = "#/incidents";
    return;
  }
  if (typing) return;
  if (state.pendingG) {
    state.pendingG = false;
    const target = { i: "incidents", s: "silences", o: "oncall", h: "health" }[event.key];
    if (target) { location.hash = `#/${target}`; event.preventDefault(); }
    return;
  }
  const click = (id) => { const b = document.getElementById(id); if (b && !b.disabled) b.click(); };
  switch (event.key) {
    case "g": state.pendingG = true; setTimeout(() => { state.pendingG = false; }, 1500); break;
    case "?": document.getElementById("help").showModal(); break;
    case "/": if (state.view === "incidents") { event.preventDefault(); document.getElementById("f-matchers").focus(); } break;
    case "j": if (state.view === "incidents") { state.selected = Math.min(state.selected + 1, state.incidents.length - 1); highlight(); } break;
    case "k": if (state.view === "incidents") { state.selected = Math.max(state.selected - 1, 0); highlight(); } break;
    case "Enter": if (state.view === "incidents") open(); break;
    case "a": if (state.view === "incident") click("acknowledge"); break;
    case "r": if (state.view === "incident") click("resolve"); break;
    case "e": if (state.view === "incident") click("escalate"); break;
    default: break;
  }
}

// -- start -------------------------------------------------------------------------------

document.addEventListener("DOMContentLoaded", () => {
  document.getElementById("sign-in-form").addEventListener("submit", (event) => {
    event.preventDefault();
    document.getElementById("sign-in-error").textContent = "";
    signIn(document.getElementById("key").value.trim());
  });
  document.getElementById("sign-out").addEventListener("click", () => signOut("Signed out."));
  window.addEventListener("hashchange", route);
  document.addEventListener("keydown", onKey);
  const key = sessionStorage.getItem(KEY);
  if (key) signIn(key); else signOut("");
});
