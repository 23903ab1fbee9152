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
  if (view === "alerts") loadAlerts(false);
  if (view === "events") loadEvents(false);
}

async function loadFleet() {
  const data = await api("GET", "/api/v1/agents");
  const tbody = $("#agents-table tbody");
  tbody.replaceChildren();
  let silent = 0, degraded = 0;
  for (const a of data.agents) {
    if (a.health === "silent" || a.health === "never_seen") silent++;
    if (a.health === "degraded") degraded++;
    const row = el("tr", { class: a.health === "never_seen" ? "silent" : a.health, "data-agent": a.name,
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
       el("dt", {}, "Enrolled"), el("dd", {}, shortTime(a.enrolled_at)),
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
  setInterval(() => { if (!$("#fleet-view").hidden) loadFleet().catch(() => {}); }, 15000);
});
