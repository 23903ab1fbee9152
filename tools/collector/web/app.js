// Tier0Watch collector dashboard: plain JS, no dependencies. Data is only ever inserted with
// textContent (never innerHTML), so event fields cannot inject markup.
"use strict";

const state = { csrf: "", user: "", silentAfter: 600, alertsNext: null, eventsNext: null };

const $ = (sel) => document.querySelector(sel);

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") e.className = v;
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v);
  }
  for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(String(c ?? "")));
  return e;
}

async function api(method, path, body) {
  const opts = { method, headers: {}, credentials: "same-origin" };
  if (body !== undefined) {
    opts.headers["Content-Type"] = "application/json";
    opts.body = JSON.stringify(body);
  }
  if (method !== "GET") opts.headers["X-CSRF-Token"] = state.csrf;
  const res = await fetch(path, opts);
  let data = null;
  try { data = await res.json(); } catch (e) { data = null; }
  if (res.status === 401 && path !== "/api/v1/login") { showLogin(); throw new Error("login required"); }
  if (!res.ok) throw new Error((data && (data.detail || data.error)) || ("HTTP " + res.status));
  return data;
}

function ago(seconds) {
  if (seconds === null || seconds === undefined) return "never";
  if (seconds < 60) return seconds + " s ago";
  if (seconds < 3600) return Math.floor(seconds / 60) + " min ago";
  if (seconds < 86400) return Math.floor(seconds / 3600) + " h ago";
  return Math.floor(seconds / 86400) + " d ago";
}

function shortTime(iso) { return iso ? iso.replace("T", " ").replace(/\.\d+Z$/, "Z") : "—"; }

function showLogin() {
  $("#nav").hidden = true;
  for (const v of document.querySelectorAll(".view")) v.hidden = true;
  $("#event-detail").hidden = true;
  $("#login-view").hidden = false;
  $("#login-user").focus();
}

function show(view) {
  $("#login-view").hidden = true;
  $("#nav").hidden = false;
  $("#whoami").textContent = state.user;
  for (const v of document.querySelectorAll(".view")) v.hidden = v.id !== view + "-view";
  for (const t of document.querySelectorAll(".tab")) t.classList.toggle("active", t.dataset.view === view);
  $("#event-detail").hidden = true;
  if (view === "fleet") loadFleet();
  if (view === "health") loadHealth().catch(report);
  if (view === "alerts") loadAlerts(false);
  if (view === "events") loadEvents(false);
}

async function loadFleet() {
  const data = await api("GET", "/api/v1/agents");
  const tbody = $("#agents-table tbody");
  tbody.replaceChildren();
  let silent = 0, degraded = 0;
  for (const a of data.agents) {
    if (a.health === "silent" || a.health === "never_seen" || a.health === "revoked") silent++;
    if (a.health === "degraded") degraded++;
    const row = el("tr", { class: a.health === "never_seen" || a.health === "revoked" ? "silent" : a.health, "data-agent": a.name,
                           onclick: () => showAgent(a.name) },
      el("td", {}, a.name), el("td", {}, a.hostname || "—"), el("td", {}, a.version || "—"),
      el("td", {}, ago(a.seconds_since_seen)), el("td", {}, a.events), el("td", {}, a.alerts),
      el("td", {}, a.queue_depth ?? "—"), el("td", {}, a.drops), el("td", {}, a.gaps),
      el("td", { class: a.conflicts ? "bad" : "" }, a.conflicts),
      el("td", {}, el("span", { class: "badge " + a.health }, a.health.replace("_", " "))));
    tbody.append(row);
  }
  const summary = $("#fleet-summary");
  summary.replaceChildren(
    el("div", {}, el("strong", {}, data.agents.length), "agents"),
    el("div", { class: silent ? "bad" : "" }, el("strong", {}, silent),
       "silent > " + data.silent_after_seconds + " s"),
    el("div", {}, el("strong", {}, degraded), "with drops or gaps"));
}

async function showAgent(name) {
  const a = await api("GET", "/api/v1/agents/" + encodeURIComponent(name));
  const box = $("#agent-detail");
  const rows = a.channels.map((c) => el("tr", {}, el("td", {}, c.channel),
    el("td", {}, shortTime(c.last_event_time)), el("td", {}, shortTime(c.last_received)),
    el("td", {}, c.lag_seconds === null ? "—" : c.lag_seconds.toFixed(1) + " s")));
  box.replaceChildren(el("h3", {}, "Agent " + a.name),
    el("dl", {}, el("dt", {}, "Agent id"), el("dd", {}, a.agent_id || "—"),
       el("dt", {}, "Enrolled"), el("dd", {}, shortTime(a.enrolled_at) +
         (a.enrolled_via ? " with site secret " + a.enrolled_via : "")),
       el("dt", {}, "Credential"), el("dd", {}, a.revoked ? "revoked " + shortTime(a.revoked_at)
         : a.credential_rotated_at ? "rotated " + shortTime(a.credential_rotated_at) : "as enrolled"),
       el("dt", {}, "Last batch"), el("dd", {}, a.last_batch || "—"),
       el("dt", {}, "Status report"), el("dd", {}, JSON.stringify(a.status))),
    el("table", {}, el("thead", {}, el("tr", {}, el("th", {}, "Channel"), el("th", {}, "Newest event"),
       el("th", {}, "Received"), el("th", {}, "Lag"))), el("tbody", {}, ...rows)));
  // Ids re-sent with other content (queue or log rollback, or tampering): both versions are kept.
  if (a.recent_conflicts.length) {
    box.append(el("h4", { class: "bad" }, a.conflicts + " conflicts (newest " + a.recent_conflicts.length + ")"),
      el("table", { id: "agent-conflicts" }, el("thead", {}, el("tr", {}, el("th", {}, "Received"),
        el("th", {}, "Kind"), el("th", {}, "Key"), el("th", {}, "Batch"))),
        el("tbody", {}, ...a.recent_conflicts.map((c) => el("tr", {}, el("td", {}, shortTime(c.received)),
          el("td", {}, c.kind), el("td", {}, c.key), el("td", {}, c.batch_id))))));
  }
  if (a.recent_status_reports.length) {
    box.append(el("h4", {}, "Status reports of the agent"),
      el("table", { id: "agent-reports" }, el("thead", {}, el("tr", {}, el("th", {}, "Time"),
        el("th", {}, "Type"), el("th", {}, "Message"))),
        el("tbody", {}, ...a.recent_status_reports.map((r) => el("tr", {},
          el("td", {}, shortTime(r.time || r.received)), el("td", {}, r.type),
          el("td", {}, (r.report && r.report.message) || ""))))));
  }
  box.hidden = false;
}

// ---- Health view: the fleet by worst open issue, each agent's sources, issues, charts --------
const SEVERITY_RANK = { high: 3, medium: 2, low: 1 };
const COLORS = ["#2563eb", "#dc2626", "#16a34a", "#d97706", "#7c3aed", "#0891b2", "#be185d", "#4b5563"];
const LEVEL_COLORS = { critical: "#7f1d1d", high: "#dc2626", medium: "#d97706", low: "#2563eb", informational: "#6b7280" };

function fmt(v, unit) { return v === null || v === undefined ? "—" : String(v) + (unit || ""); }

async function loadHealth() {
  const data = await api("GET", "/api/v1/agents");
  const agents = data.agents.slice().sort((a, b) =>
    (SEVERITY_RANK[b.worst_severity] || 0) - (SEVERITY_RANK[a.worst_severity] || 0) ||
    b.open_issues - a.open_issues || a.name.localeCompare(b.name));
  const tbody = $("#health-table tbody");
  tbody.replaceChildren();
  let withIssues = 0;
  for (const a of agents) {
    if (a.open_issues) withIssues++;
    const w = a.worst_issue;
    const sources = (a.status && a.status.sources) || [];
    tbody.append(el("tr", { "data-agent": a.name, class: w ? "sev-" + w.severity : "ok",
                            onclick: () => showHealthAgent(a.name) },
      el("td", {}, a.name),
      el("td", {}, w ? w.code + (w.source ? " (" + w.source + ")" : "") : "none"),
      el("td", {}, w ? el("span", { class: "badge " + w.severity }, w.severity) : "—"),
      el("td", {}, a.open_issues),
      el("td", {}, (a.status && a.status.time) ? shortTime(a.status.time) : "never"),
      el("td", {}, sources.map((s) => s.name + ": " + s.state).join(", ") || "—")));
  }
  $("#health-summary").replaceChildren(
    el("div", {}, el("strong", {}, agents.length), "agents"),
    el("div", { class: withIssues ? "bad" : "" }, el("strong", {}, withIssues), "with open issues"));
  await loadHealthIssues();
  await loadCharts();
}

async function loadHealthIssues() {
  const p = formQuery($("#health-filter"));
  const data = await api("GET", "/api/v1/health?" + p.toString());
  const tbody = $("#health-issues tbody");
  tbody.replaceChildren();
  for (const h of data.issues) {
    const action = el("td", {});
    if (h.state === "open") {
      action.append(el("button", { class: "suppress", onclick: async (ev) => {
        ev.stopPropagation();
        await api("POST", "/api/v1/health/" + h.id + "/suppress", { hours: 24 });
        await loadHealth();
      } }, "Suppress 24 h"));
    }
    tbody.append(el("tr", { "data-issue": h.id, "data-code": h.code, class: "state-" + h.state },
      el("td", {}, h.agent), el("td", {}, h.code), el("td", {}, h.source || "—"),
      el("td", {}, el("span", { class: "badge " + h.severity }, h.severity)),
      el("td", {}, h.state + (h.suppressed_until ? " until " + shortTime(h.suppressed_until) : "")),
      el("td", {}, shortTime(h.first_seen)), el("td", {}, shortTime(h.last_seen)),
      el("td", {}, h.detail), action));
  }
}

async function showHealthAgent(name) {
  const a = await api("GET", "/api/v1/agents/" + encodeURIComponent(name));
  const st = a.status || {};
  const rows = (a.sources || []).map((s) => el("tr", { "data-source": s.name },
    el("td", {}, s.name), el("td", {}, s.kind), el("td", {}, el("span", { class: "badge state-" + s.state }, s.state)),
    el("td", {}, s.last_position || "—"), el("td", {}, fmt(s.rate_per_second, "/s")),
    el("td", {}, fmt(s.lag_seconds, " s")), el("td", {}, fmt(s.time_to_wrap_seconds, " s")),
    el("td", {}, s.detail || "")));
  const proc = st.process || {};
  const box = $("#health-agent");
  box.replaceChildren(el("h3", {}, "Agent " + a.name),
    el("dl", {}, el("dt", {}, "Version"), el("dd", {}, st.version || a.version || "—"),
      el("dt", {}, "Uptime"), el("dd", {}, fmt(st.uptime_seconds, " s")),
      el("dt", {}, "Configuration"), el("dd", {}, st.config ? st.config.origin + " " + st.config.digest : "—"),
      el("dt", {}, "Queue"), el("dd", {}, st.queue ? st.queue.events + " records, " + st.queue.bytes + " of " + st.queue.max_bytes + " bytes" : "—"),
      el("dt", {}, "CPU / memory"), el("dd", {}, fmt(proc.cpu_percent, "%") + " / " +
        (proc.memory_bytes ? Math.round(proc.memory_bytes / 1048576) + " MB" : "—") +
        (st.load && st.load.throttled ? " (throttled)" : "")),
      el("dt", {}, "Clock offset"), el("dd", {}, fmt(st.clock_offset_ms, " ms")),
      el("dt", {}, "Rules"), el("dd", {}, st.rules ? st.rules.loaded + " loaded, " + st.rules.rejected + " rejected" : "—")),
    el("table", { id: "health-sources" }, el("thead", {}, el("tr", {}, el("th", {}, "Source"), el("th", {}, "Kind"),
      el("th", {}, "State"), el("th", {}, "Last position"), el("th", {}, "Rate"), el("th", {}, "Lag"),
      el("th", {}, "Time to wrap"), el("th", {}, "Detail"))), el("tbody", {}, ...rows)));
  box.hidden = false;
}

const SVG_NS = "http://www.w3.org/2000/svg";
function svg(tag, attrs, ...children) {
  const e = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return e;
}

// A line chart: one polyline per series ({label, points: [[t, v], ...]}), time on x.
function lineChart(series, since, until) {
  const W = 480, H = 160, L = 40, B = 20;
  let max = 0;
  for (const s of series) for (const [, v] of s.points) if (v > max) max = v;
  if (max <= 0) max = 1;
  const x = (t) => L + (W - L - 5) * (t - since) / Math.max(1, until - since);
  const y = (v) => H - B - (H - B - 5) * v / max;
  const root = svg("svg", { viewBox: "0 0 " + W + " " + H, role: "img" },
    svg("line", { x1: L, y1: H - B, x2: W, y2: H - B, stroke: "#999" }),
    svg("line", { x1: L, y1: 0, x2: L, y2: H - B, stroke: "#999" }),
    svg("text", { x: 2, y: 12, "font-size": 10 }, max.toFixed(max < 10 ? 2 : 0)),
    svg("text", { x: 2, y: H - B, "font-size": 10 }, "0"));
  series.forEach((s, i) => {
    const pts = s.points.filter(([, v]) => v !== null).map(([t, v]) => x(t).toFixed(1) + "," + y(v).toFixed(1)).join(" ");
    const color = COLORS[i % COLORS.length];
    root.append(svg("polyline", { points: pts, fill: "none", stroke: color, "stroke-width": 1.5, "data-series": s.label }));
    // The newest value as a dot: a series of one heartbeat is no line at all.
    const last = s.points.filter(([, v]) => v !== null).pop();
    if (last) root.append(svg("circle", { cx: x(last[0]).toFixed(1), cy: y(last[1]).toFixed(1), r: 3, fill: color, "data-series": s.label }));
    root.append(svg("text", { x: L + 5, y: 12 + 11 * i, "font-size": 10, fill: color }, s.label));
  });
  return root;
}

// Stacked bars per hour by level.
function alertChart(buckets, since, until, bucketMs) {
  const W = 480, H = 160, L = 40, B = 20;
  const byT = new Map();
  for (const b of buckets) {
    if (!byT.has(b.t)) byT.set(b.t, []);
    byT.get(b.t).push(b);
  }
  let max = 1;
  for (const list of byT.values()) max = Math.max(max, list.reduce((n, b) => n + b.count, 0));
  const slots = Math.max(1, Math.ceil((until - since) / bucketMs));
  const bw = (W - L - 5) / slots;
  const root = svg("svg", { viewBox: "0 0 " + W + " " + H, role: "img" },
    svg("line", { x1: L, y1: H - B, x2: W, y2: H - B, stroke: "#999" }),
    svg("text", { x: 2, y: 12, "font-size": 10 }, String(max)));
  for (const [t, list] of byT) {
    let base = H - B;
    const bx = L + (W - L - 5) * (t - since) / Math.max(1, until - since);
    for (const b of list) {
      const h = (H - B - 5) * b.count / max;
      base -= h;
      root.append(svg("rect", { x: bx.toFixed(1), y: base.toFixed(1), width: Math.max(1, bw - 1).toFixed(1),
        height: h.toFixed(1), fill: LEVEL_COLORS[b.level] || "#6b7280", "data-level": b.level, "data-count": b.count },
        svg("title", {}, b.level + ": " + b.count)));
    }
  }
  const levels = [...new Set(buckets.map((b) => b.level))];
  levels.forEach((lv, i) => root.append(svg("text", { x: L + 5 + 70 * i, y: 12, "font-size": 10,
    fill: LEVEL_COLORS[lv] || "#6b7280" }, lv)));
  return root;
}

async function loadCharts() {
  const c = await api("GET", "/api/v1/charts?hours=24");
  const label = (s) => s.agent + " " + s.source;
  $("#chart-rate").replaceChildren(lineChart(c.sources.map((s) => ({ label: label(s),
    points: s.points.map((p) => [p.t, p.rate]) })), c.since, c.until));
  $("#chart-lag").replaceChildren(lineChart(c.sources.map((s) => ({ label: label(s),
    points: s.points.map((p) => [p.t, p.lag]) })), c.since, c.until));
  $("#chart-alerts").replaceChildren(alertChart(c.alerts, c.since, c.until, c.bucket_ms));
}

function formQuery(form) {
  const p = new URLSearchParams();
  for (const [k, v] of new FormData(form).entries()) if (String(v).trim() !== "") p.set(k, String(v).trim());
  return p;
}

async function loadAlerts(more) {
  const p = formQuery($("#alerts-filter"));
  p.set("limit", "50");
  if (more && state.alertsNext) p.set("before", state.alertsNext);
  const data = await api("GET", "/api/v1/alerts?" + p.toString());
  const tbody = $("#alerts-table tbody");
  if (!more) tbody.replaceChildren();
  for (const a of data.alerts) {
    tbody.append(el("tr", { "data-alert": a.id, onclick: () => showAlert(a.id) },
      el("td", {}, shortTime(a.time || a.received)),
      el("td", {}, el("span", { class: "badge " + a.level }, a.level)),
      el("td", {}, a.rule_title || a.rule_id), el("td", {}, a.host), el("td", {}, a.agent),
      el("td", {}, a.acknowledged_by ? "ack by " + a.acknowledged_by : "open")));
  }
  state.alertsNext = data.next_before;
  $("#alerts-more").hidden = !data.next_before;
}

async function showAlert(id) {
  const a = await api("GET", "/api/v1/alerts/" + id);
  const box = $("#alert-detail");
  const matched = (a.alert.matched || []).map((m) => el("li", {}, m.field + " = " + m.value));
  const event = a.stored_event || (a.alert.event ? { event: a.alert.event, key: a.event_key } : null);
  const actions = el("div", { class: "actions" });
  if (event) actions.append(el("button", { id: "open-event", onclick: () => showEvent(event) }, "Open event"));
  if (!a.acknowledged_by) {
    actions.append(el("button", { id: "ack-alert", onclick: async () => {
      await api("POST", "/api/v1/alerts/" + id + "/ack", {});
      await loadAlerts(false);
      await showAlert(id);
    } }, "Acknowledge"));
  }
  box.replaceChildren(el("h3", {}, a.rule_title || a.rule_id),
    el("dl", {}, el("dt", {}, "Level"), el("dd", {}, el("span", { class: "badge " + a.level }, a.level)),
       el("dt", {}, "Rule"), el("dd", {}, a.rule_id),
       el("dt", {}, "Host"), el("dd", {}, a.host), el("dt", {}, "Agent"), el("dd", {}, a.agent),
       el("dt", {}, "Time"), el("dd", {}, shortTime(a.time)),
       el("dt", {}, "Tags"), el("dd", {}, (a.alert.tags || []).join(", ")),
       el("dt", {}, "State"), el("dd", {}, a.acknowledged_by
         ? "acknowledged by " + a.acknowledged_by + " at " + shortTime(a.acknowledged_at) : "open")),
    el("h4", {}, "Matched"), el("ul", {}, ...matched), actions);
  box.hidden = false;
}

function showEvent(e) {
  const sys = (e.event && e.event.System) || {};
  $("#event-meta").replaceChildren(
    el("dt", {}, "Key"), el("dd", {}, e.key || "—"),
    el("dt", {}, "Host"), el("dd", {}, e.host || sys.Computer || "—"),
    el("dt", {}, "Channel"), el("dd", {}, e.channel || sys.Channel || "—"),
    el("dt", {}, "EventID"), el("dd", {}, e.event_id ?? sys.EventID ?? "—"),
    el("dt", {}, "Time"), el("dd", {}, shortTime(e.time || sys.TimeCreated)));
  $("#event-json").textContent = JSON.stringify(e.event, null, 2);
  const box = $("#event-detail");
  box.hidden = false;
  box.scrollIntoView({ block: "nearest" });
}

async function loadEvents(more) {
  const p = formQuery($("#events-filter"));
  p.set("limit", "50");
  if (more && state.eventsNext) p.set("before", state.eventsNext);
  const data = await api("GET", "/api/v1/events?" + p.toString());
  const tbody = $("#events-table tbody");
  if (!more) tbody.replaceChildren();
  for (const e of data.events) {
    tbody.append(el("tr", { "data-event": e.id, onclick: () => showEvent(e) },
      el("td", {}, shortTime(e.time)), el("td", {}, e.host), el("td", {}, e.channel),
      el("td", {}, e.event_id), el("td", {}, e.record_id)));
  }
  state.eventsNext = data.next_before;
  $("#events-more").hidden = !data.next_before;
}

function report(err) {
  if (err && err.message !== "login required") alert(err.message);
}

document.addEventListener("DOMContentLoaded", async () => {
  $("#login-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    $("#login-error").textContent = "";
    try {
      const r = await api("POST", "/api/v1/login",
        { user: $("#login-user").value, password: $("#login-password").value });
      state.csrf = r.csrf;
      state.user = r.user;
      $("#login-password").value = "";
      show("fleet");
    } catch (e) {
      $("#login-error").textContent = e.message;
    }
  });
  for (const t of document.querySelectorAll(".tab")) {
    t.addEventListener("click", () => show(t.dataset.view));
  }
  $("#logout").addEventListener("click", async () => {
    try { await api("POST", "/api/v1/logout", {}); } catch (e) { /* logged out either way */ }
    state.csrf = "";
    showLogin();
  });
  $("#alerts-filter").addEventListener("submit", (ev) => { ev.preventDefault(); loadAlerts(false).catch(report); });
  $("#events-filter").addEventListener("submit", (ev) => { ev.preventDefault(); loadEvents(false).catch(report); });
  $("#alerts-more").addEventListener("click", () => loadAlerts(true).catch(report));
  $("#health-filter").addEventListener("submit", (ev) => { ev.preventDefault(); loadHealthIssues().catch(report); });
  $("#events-more").addEventListener("click", () => loadEvents(true).catch(report));
  try {
    const s = await api("GET", "/api/v1/session");
    state.csrf = s.csrf;
    state.user = s.user;
    show("fleet");
  } catch (e) {
    showLogin();
  }
  // Fleet health refreshes itself so a silent agent turns red without a reload.
  setInterval(() => {
    if (!$("#fleet-view").hidden) loadFleet().catch(() => {});
    if (!$("#health-view").hidden) loadHealth().catch(() => {});
  }, 15000);
});
