// autopilot-sim dashboard: plain JS + hand-written SVG, no dependencies, no build step.
// Live mode (served by `autopilot-sim serve`): polls GET /v1/sim/view, /v1/sim/events and the
// real /v1/operator/autopilot/health; every control goes through the HTTP API.
// Replay mode (served by `autopilot-sim view RUN_DIR`): GET /v1/sim/replay once, then
// GET /v1/sim/view?at=NS for the frame under the time slider.
"use strict";

const SVGNS = "http://www.w3.org/2000/svg";
// The matplotlib plots' colours (autopilot_sim/plot.py).
const C = {
  leader: "#6a3d9a", voter: "#1f78b4", nonvoter: "#a6cee3", healthy: "#4daf4a", sick: "#e41a1c",
  ft: "#1f3b73", voters: "#2a9d8f", noleader: "#d62728", unhealthy: "#ff9f1c", down: "#8c8c8c",
  serf: { alive: "#d9d9d9", leaving: "#ff9f1c", left: "#8c8c8c", failed: "#111111" },
};
const TERM_COLOURS = ["#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"];
const MSG_COLOURS = { vote: "#6a3d9a", prevote: "#b07aa1", "vote-reply": "#6a3d9a", append: "#1f78b4", "append-empty": "#7aa6c2",
  "append-reply": "#1f78b4", heartbeat: "#9aa5b1", "heartbeat-reply": "#9aa5b1" };
const CATEGORY = { crash: "fault", pause: "fault", partition: "fault", cut: "fault", safety_violation: "fault",
  restart: "recovery", heal: "recovery", leader_elected: "leader", leader_stepped_down: "leader",
  join: "membership", leave: "membership", force_leave: "membership", upgrade: "membership", promotion: "membership",
  removal: "membership", raft_remove: "membership", config_write: "config", config_write_failed: "config",
  api_config_write: "config", api_config_write_failed: "config" };

const S = {
  mode: null, token: sessionStorage.getItem("autopilot-sim-token") || "", frame: null, clock: null,
  msgSeq: 0, reportPos: 0, eventPos: 0, timeline: [], events: [], dots: [], groups: {},
  healthStatus: null, healthText: "", replay: null, scrubT: 0, playing: false, endNs: 0,
  perf: { frameTimes: [], updateLatencies: [] }, tokenPending: null, selectedGroups: false,
};
window.__dashboard = S; // for the browser tests' measurements

const $ = (id) => document.getElementById(id);
function el(tag, attrs, parent, ns) {
  const e = ns ? document.createElementNS(SVGNS, tag) : document.createElement(tag);
  for (const k in attrs || {}) { if (k === "text") e.textContent = attrs[k]; else e.setAttribute(k, attrs[k]); }
  if (parent) parent.appendChild(e);
  return e;
}
const svg = (tag, attrs, parent) => el(tag, attrs, parent, true);
function fmtDur(ns) {
  if (ns === null || ns === undefined) return "";
  const s = ns / 1e9;
  if (s < 1) return `${+(ns / 1e6).toFixed(1)}ms`;
  if (s < 60) return `${+s.toFixed(2)}s`;
  const h = Math.floor(s / 3600), m = Math.floor((s - 3600 * h) / 60), rest = +(s - 3600 * h - 60 * m).toFixed(1);
  return `${h ? h + "h" : ""}${m || h ? m + "m" : ""}${rest || !(m || h) ? rest + "s" : ""}`;
}

// ------------------------------------------------------------------ HTTP
async function api(method, path, body) {
  const headers = {};
  if (S.token) headers["X-Nomad-Token"] = S.token;
  const opts = { method, headers };
  if (body !== undefined) opts.body = typeof body === "string" ? body : JSON.stringify(body);
  const r = await fetch(path, opts);
  const text = await r.text();
  if (r.status === 403) askToken(`${method} ${path.split("?")[0]} answered 403 ${text}`);
  return { status: r.status, text, json: () => JSON.parse(text) };
}
function askToken(why) {
  const dlg = $("token-dialog");
  if (dlg.open) return;
  $("token-why").textContent = why + ". Enter an ACL token (sent as X-Nomad-Token).";
  $("token-input").value = S.token;
  dlg.showModal();
}
$("token-dialog").addEventListener("close", () => {
  if ($("token-dialog").returnValue === "ok") {
    S.token = $("token-input").value.trim();
    sessionStorage.setItem("autopilot-sim-token", S.token);
  }
});
$("btn-token").onclick = () => askToken("Set the ACL token");
$("btn-large").onclick = () => {
  const on = document.body.classList.toggle("large");
  $("btn-large").setAttribute("aria-pressed", String(on));
};
function showResult(id, status, text) {
  const p = $(id);
  p.textContent = `${status} ${text}`.trim();
  p.classList.toggle("error", status >= 400);
}
async function act(method, path, body, resultId = "action-result") {
  const r = await api(method, path, body);
  let text = r.text;
  if (r.status === 200 && path === "/v1/sim/events") {
    try { const v = r.json(); text = (v.Messages && v.Messages.length ? v.Messages.join("; ") : `${v.Kind} applied`); } catch (e) { /* raw */ }
  }
  showResult(resultId, r.status, r.status === 200 && path !== "/v1/sim/events" ? "OK" : text);
  if (S.mode === "live") pollSoon();
  return r;
}
const inject = (event) => act("POST", "/v1/sim/events", event);

// ------------------------------------------------------------------ cluster diagram
const D = { w: 600, h: 420, pos: {} };
function layout(servers) {
  const n = servers.length, cx = D.w / 2, cy = D.h / 2, r = Math.min(D.w, D.h) / 2 - (n > 12 ? 25 : 78);
  servers.forEach((s, i) => {
    const a = -Math.PI / 2 + (2 * Math.PI * i) / n;
    D.pos[s.Name] = [cx + r * Math.cos(a), cy + r * Math.sin(a)];
  });
}
function roleColour(s) {
  if (!s.Up) return C.down;
  if (s.Role === "Leader") return C.leader;
  if (s.Suffrage === "voter") return C.voter;
  if (s.Suffrage === "nonvoter" || s.Suffrage === "staging") return C.nonvoter;
  return "#d0d0d0";
}
function drawDiagram(frame) {
  const root = $("diagram");
  const servers = frame.Servers;
  layout(servers);
  root.textContent = "";
  const big = servers.length > 12;
  const radius = big ? 9 : 30;
  const links = svg("g", { "aria-hidden": "true" }, root);
  const blocked = new Set(frame.Blocked.map(([a, b]) => `${a}>${b}`));
  if (!big) {
    for (let i = 0; i < servers.length; i++) for (let j = i + 1; j < servers.length; j++) {
      const a = servers[i].Name, b = servers[j].Name, [x1, y1] = D.pos[a], [x2, y2] = D.pos[b];
      const ab = blocked.has(`${a}>${b}`), ba = blocked.has(`${b}>${a}`);
      const cut = ab || ba;
      svg("line", { x1, y1, x2, y2, stroke: cut ? C.sick : "#d5d9de", "stroke-width": cut ? 2.5 : 1.2,
        "stroke-dasharray": cut ? (ab && ba ? "7 5" : "2 4") : "", class: cut ? "link cut" : "link",
        "data-link": `${a}-${b}` }, links);
    }
  } else if (blocked.size) {
    const seen = new Set();
    for (const key of blocked) {
      const [a, b] = key.split(">"), k2 = [a, b].sort().join("-");
      if (seen.has(k2) || !D.pos[a] || !D.pos[b]) continue;
      seen.add(k2);
      svg("line", { x1: D.pos[a][0], y1: D.pos[a][1], x2: D.pos[b][0], y2: D.pos[b][1], stroke: C.sick,
        "stroke-width": 0.6, "stroke-opacity": 0.35, class: "link cut" }, links);
    }
  }
  S.dotLayer = svg("g", { "aria-hidden": "true" }, root);
  for (const s of servers) {
    const [x, y] = D.pos[s.Name];
    const g = svg("g", { class: "server", tabindex: big ? -1 : 0, "data-server": s.Name, role: "img",
      "aria-label": `${s.Name}: ${s.Up ? s.Role : "down"}, ${s.Suffrage}, term ${s.Term}, ` +
        `last index ${s.LastIndex}, commit ${s.CommitIndex}, ${s.Healthy === null ? "health unknown" : s.Healthy ? "healthy" : "unhealthy"}` }, root);
    const ring = s.Healthy === null ? "#bbb" : s.Healthy ? C.healthy : C.sick;
    svg("circle", { cx: x, cy: y, r: radius, fill: roleColour(s), stroke: ring, "stroke-width": big ? 2.5 : 5 }, g);
    if (s.Paused) svg("text", { x, y: y + 6, "text-anchor": "middle", "font-size": 18, fill: "#fff", text: "❚❚" }, g);
    if (!s.Up) svg("path", { d: `M${x - radius / 2},${y - radius / 2}L${x + radius / 2},${y + radius / 2}M${x + radius / 2},${y - radius / 2}L${x - radius / 2},${y + radius / 2}`, stroke: "#fff", "stroke-width": 4 }, g);
    if (s.SerfStatus && s.SerfStatus !== "alive") {
      svg("circle", { cx: x + radius * 0.75, cy: y - radius * 0.75, r: big ? 3 : 8, fill: C.serf[s.SerfStatus] || "#999", stroke: "#fff" }, g);
    }
    if (!big) {
      const below = y > D.h / 2 - 1;
      const ty = below ? y + radius + 17 : y - radius - 24;
      svg("text", { x, y: ty, "text-anchor": "middle", "font-size": 15, "font-weight": 700, fill: "#111", text: s.Name }, g);
      svg("text", { x, y: ty + 15, "text-anchor": "middle", "font-size": 12, fill: "#333",
        text: `t${s.Term} · ${s.LastIndex}/${s.CommitIndex}${s.VotedFor ? " · v:" + s.VotedFor : ""}` }, g);
    } else {
      svg("title", { text: s.Name }, g);
    }
  }
}
// Messages: each dot flies from src to dst over max(its real flight at the current speed, 350 ms).
function addDots(messages, speed, replayFrame) {
  const now = performance.now();
  const cap = S.frame && S.frame.Servers.length > 12 ? 120 : 80;
  for (const [seq, src, dst, kind, sent, arrives] of messages) {
    const real = arrives === null ? 3e6 : arrives - sent;
    const ms = Math.min(1500, Math.max(350, real / 1e6 / Math.max(speed, 1e-3)));
    S.dots.push({ src, dst, kind, lost: arrives === null, start: now, end: now + ms });
  }
  if (S.dots.length > cap) S.dots.splice(0, S.dots.length - cap);
}
function drawDots(now) {
  const layer = S.dotLayer;
  if (!layer) return;
  S.dots = S.dots.filter((d) => d.end > now && D.pos[d.src] && D.pos[d.dst]);
  while (layer.childNodes.length > S.dots.length) layer.removeChild(layer.lastChild);
  while (layer.childNodes.length < S.dots.length) svg("circle", { r: 5 }, layer);
  S.dots.forEach((d, i) => {
    let f = (now - d.start) / (d.end - d.start);
    if (d.lost) f = Math.min(f, 0.5);
    const [x1, y1] = D.pos[d.src], [x2, y2] = D.pos[d.dst];
    const c = layer.childNodes[i];
    c.setAttribute("cx", x1 + (x2 - x1) * f);
    c.setAttribute("cy", y1 + (y2 - y1) * f);
    c.setAttribute("fill", d.lost ? C.sick : MSG_COLOURS[d.kind] || "#555");
    c.setAttribute("r", d.kind.startsWith("heartbeat") || d.kind === "append-empty" ? 3.5 : 5.5);
    c.setAttribute("opacity", d.lost ? 1 - f : 0.9);
  });
}
let lastRaf = 0;
function raf(now) {
  if (lastRaf) { S.perf.frameTimes.push(now - lastRaf); if (S.perf.frameTimes.length > 2000) S.perf.frameTimes.shift(); }
  lastRaf = now;
  drawDots(now);
  if (S.mode === "replay" && S.playing) replayTick(now);
  requestAnimationFrame(raf);
}

// ------------------------------------------------------------------ servers table and groups
function groupOf(name) { return S.groups[name] || "A"; }
function drawServers(frame) {
  const tbody = $("servers").tBodies[0];
  const names = frame.Servers.map((s) => s.Name);
  const rebuild = tbody.rows.length !== names.length || [...tbody.rows].some((r, i) => r.dataset.server !== names[i]);
  if (rebuild) {
    tbody.textContent = "";
    for (const s of frame.Servers) {
      const tr = el("tr", { "data-server": s.Name }, tbody);
      el("th", { scope: "row", text: s.Name }, tr);
      for (const k of ["role", "term", "vote", "index", "health"]) el("td", { "data-col": k }, tr);
      const acts = el("td", { class: "live-only" }, tr);
      for (const [label, fn] of [["Crash", () => inject({ crash: s.Name })], ["Restart", () => inject({ restart: s.Name })],
        ["Pause", () => inject({ pause: { server: s.Name, for: "5s" } })]]) {
        const b = el("button", { type: "button", class: "act" + (label === "Crash" ? " danger" : ""), id: `btn-${label.split(" ")[0].toLowerCase()}-${s.Name}`,
          "aria-label": label === "Pause" ? `Pause ${s.Name} for 5 seconds` : `${label} ${s.Name}`,
          title: label === "Pause" ? "Stall the process for 5 simulated seconds" : "", text: label }, acts);
        b.onclick = fn;
      }
      const gtd = el("td", { class: "live-only" }, tr);
      const sel = el("select", { id: `group-${s.Name}`, "aria-label": `Partition group of ${s.Name}` }, gtd);
      for (const g of ["A", "B", "C"]) el("option", { value: g, text: g }, sel);
      sel.value = groupOf(s.Name);
      sel.onchange = () => { S.groups[s.Name] = sel.value; drawGroups(frame); };
    }
    drawGroups(frame);
    fillSelect($("cut-from"), names); fillSelect($("cut-to"), names, 1);
  }
  frame.Servers.forEach((s, i) => {
    const r = tbody.rows[i];
    const set = (k, v) => { const c = r.querySelector(`[data-col=${k}]`); if (c.textContent !== v) c.textContent = v; };
    const role = s.Up ? `${s.Role}${s.Paused ? " (paused)" : ""}` : "down";
    const rc = r.querySelector("[data-col=role]");
    if (rc.dataset.v !== role + s.Suffrage) {
      rc.dataset.v = role + s.Suffrage;
      rc.textContent = role;
      el("span", { class: "sub", text: ` ${s.Suffrage}` }, rc);
    }
    set("term", String(s.Term));
    set("vote", s.VotedFor || "");
    set("index", `${s.LastIndex} / ${s.CommitIndex}`);
    // No report while leaderless (Nomad answers 500 "No cluster leader"), or for a server the
    // leader's autopilot does not list: say so rather than show two dashes.
    set("health", s.Healthy === null ? "no report" : `${s.Healthy ? "healthy" : "unhealthy"} · ${s.SerfStatus || "–"}`);
  });
}
function fillSelect(sel, names, offset = 0) {
  const keep = sel.value;
  sel.textContent = "";
  for (const n of names) el("option", { value: n, text: n }, sel);
  sel.value = names.includes(keep) ? keep : names[Math.min(offset, names.length - 1)];
}
function drawGroups(frame) {
  for (const box of document.querySelectorAll(".group")) {
    const ul = box.querySelector("ul");
    ul.textContent = "";
    for (const s of frame.Servers) {
      if (groupOf(s.Name) !== box.dataset.group) continue;
      const li = el("li", { class: "chip", draggable: "true", "data-server": s.Name, text: s.Name }, ul);
      li.addEventListener("dragstart", (ev) => ev.dataTransfer.setData("text/plain", s.Name));
    }
  }
}
for (const box of document.querySelectorAll(".group")) {
  box.addEventListener("dragover", (ev) => { ev.preventDefault(); box.classList.add("over"); });
  box.addEventListener("dragleave", () => box.classList.remove("over"));
  box.addEventListener("drop", (ev) => {
    ev.preventDefault(); box.classList.remove("over");
    const name = ev.dataTransfer.getData("text/plain");
    if (!name) return;
    S.groups[name] = box.dataset.group;
    const sel = $(`group-${name}`); if (sel) sel.value = box.dataset.group;
    if (S.frame) drawGroups(S.frame);
  });
}
$("btn-partition").onclick = () => {
  const groups = {};
  for (const s of S.frame.Servers) (groups[groupOf(s.Name)] = groups[groupOf(s.Name)] || []).push(s.Name);
  const list = Object.keys(groups).sort().map((g) => groups[g]);
  if (list.length < 2) { showResult("action-result", 400, "put at least one server in another group first"); return; }
  inject({ partition: list });
};
$("btn-heal").onclick = () => inject({ heal: "all" });
$("btn-cut").onclick = () => inject({ cut: { from: $("cut-from").value, to: $("cut-to").value } });
$("btn-join").onclick = () => {
  const name = $("join-name").value.trim();
  inject({ join: { name } }).then(() => { if (S.frame) $("join-name").value = nextName(S.frame); });
};
$("btn-writes").onclick = () => inject({ set_load: { writes_per_second: Number($("writes").value || 0) } });
function nextName(frame) {
  const names = new Set(frame.Servers.map((s) => s.Name));
  for (let i = 1; ; i++) if (!names.has(`node${i}`)) return `node${i}`;
}

// ------------------------------------------------------------------ logs
function drawLogs(frame) {
  const root = $("logs");
  const servers = frame.Servers;
  const rows = Math.min(servers.length, 16);
  const rowH = 22, left = 70, cell = 20, h = rows * rowH + 24;
  root.setAttribute("viewBox", `0 0 600 ${h}`);
  root.textContent = "";
  let maxIndex = 0;
  for (const s of servers) if (s.Log.length) maxIndex = Math.max(maxIndex, s.Log[s.Log.length - 1][0]);
  const cols = Math.floor((600 - left - 10) / cell);
  const first = Math.max(1, maxIndex - cols + 1);
  svg("text", { x: left, y: 14, "font-size": 11, fill: "#444", text: `index ${first} →` }, root);
  servers.slice(0, rows).forEach((s, r) => {
    const y = 20 + r * rowH;
    svg("text", { x: 4, y: y + 15, "font-size": 13, "font-weight": 600, fill: s.Up ? "#111" : "#888", text: s.Name }, root);
    const last = s.Log.length ? s.Log[s.Log.length - 1][0] : 0;
    if (last < first) svg("text", { x: left, y: y + 15, "font-size": 12, fill: "#555",
      text: `${s.Up ? "" : "down · "}log ends at index ${last}, commit ${s.CommitIndex}` }, root);
    for (const [index, term] of s.Log) {
      if (index < first) continue;
      const x = left + (index - first) * cell;
      const committed = index <= s.CommitIndex;
      svg("rect", { x, y: y + 2, width: cell - 2, height: rowH - 5, rx: 2, fill: TERM_COLOURS[term % TERM_COLOURS.length],
        "fill-opacity": committed ? 1 : 0.45, stroke: committed ? "none" : "#333", "stroke-dasharray": "2 2" }, root);
      if (cell >= 18) svg("text", { x: x + (cell - 2) / 2, y: y + 15, "text-anchor": "middle", "font-size": 10, fill: "#fff", text: term }, root);
    }
    if (s.CommitIndex >= first) {
      const x = left + (s.CommitIndex - first + 1) * cell - 1;
      svg("line", { x1: x, y1: y, x2: x, y2: y + rowH - 1, stroke: "#111", "stroke-width": 3 }, root);
    }
  });
  if (servers.length > rows) svg("text", { x: 4, y: h - 4, "font-size": 11, fill: "#444", text: `… and ${servers.length - rows} more` }, root);
}

// ------------------------------------------------------------------ failure tolerance timeline
function drawTimeline(points, nowNs, cursorNs) {
  const root = $("ft-chart");
  root.textContent = "";
  const W = 600, H = 180, L = 34, R = 26, T = 10, B = 24;
  const end = Math.max(nowNs, S.endNs && S.mode === "replay" ? S.endNs : 0, 1e9);
  let ymax = 2;
  for (const p of points) ymax = Math.max(ymax, p[2] || 0, p[3] || 0);
  const x = (t) => L + ((W - L - R) * t) / end, y = (v) => T + (H - T - B) * (1 - v / ymax);
  // status spans: 500 (no leader) red, 429 (unhealthy) orange, as in plot.py
  for (let i = 0; i < points.length; i++) {
    const p = points[i], next = i + 1 < points.length ? points[i + 1][0] : nowNs;
    if (p[1] === 200) continue;
    svg("rect", { x: x(p[0]), y: T, width: Math.max(1, x(next) - x(p[0])), height: H - T - B,
      fill: p[1] === 500 ? C.noleader : C.unhealthy, "fill-opacity": p[1] === 500 ? 0.25 : 0.3, class: `span s${p[1]}` }, root);
  }
  for (let v = 0; v <= ymax; v++) {
    svg("line", { x1: L, x2: W - R, y1: y(v), y2: y(v), stroke: "#eee" }, root);
    svg("text", { x: L - 6, y: y(v) + 4, "text-anchor": "end", "font-size": 11, fill: "#333", text: v }, root);
  }
  const steps = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400, 43200, 86400];
  const step = (steps.find((s) => end / 1e9 / s <= 7) || 86400) * 1e9;
  for (let t = 0; t <= end; t += step) {
    svg("line", { x1: x(t), x2: x(t), y1: H - B, y2: H - B + 4, stroke: "#333" }, root);
    svg("text", { x: x(t), y: H - 6, "text-anchor": "middle", "font-size": 11, fill: "#333", text: t === 0 ? "0s" : fmtDur(t) }, root);
  }
  const path = (idx, colour, dash, width, cls) => {
    let d = "", prev = null;
    for (let i = 0; i < points.length; i++) {
      const p = points[i], v = p[idx];
      if (v === null) { prev = null; continue; }
      const nx = i + 1 < points.length ? points[i + 1][0] : nowNs;
      d += (prev === null ? `M${x(p[0])},${y(v)}` : `L${x(p[0])},${y(prev)}L${x(p[0])},${y(v)}`) + `L${x(nx)},${y(v)}`;
      prev = v;
    }
    if (d) svg("path", { d, fill: "none", stroke: colour, "stroke-width": width, "stroke-dasharray": dash, class: cls }, root);
  };
  path(3, C.voters, "6 2", 2, "voters-line");
  path(2, C.ft, "", 3, "ft-line");
  if (cursorNs !== undefined) svg("line", { x1: x(cursorNs), x2: x(cursorNs), y1: T, y2: H - B, stroke: "#111", "stroke-width": 1.5, class: "cursor" }, root);
  svg("line", { x1: L, x2: L, y1: T, y2: H - B, stroke: "#333" }, root);
  svg("line", { x1: L, x2: W - R, y1: H - B, y2: H - B, stroke: "#333" }, root);
}
function pointAt(tNs) {
  let found = null;
  for (const p of S.timeline) { if (p[0] <= tNs) found = p; else break; }
  return found;
}
function showFt(p) {
  const v = !p ? "–" : p[1] === 500 ? "no leader" : String(p[2]);
  $("ft-value").textContent = v;
  $("ft-value").dataset.value = p && p[1] !== 500 ? String(p[2]) : "";
}

// ------------------------------------------------------------------ events
function addEvents(events) {
  const ol = $("event-log");
  const stick = ol.scrollTop + ol.clientHeight >= ol.scrollHeight - 20;
  for (const e of events) {
    const li = el("li", { class: CATEGORY[e.kind] || "", "data-kind": e.kind, "data-t": e.t_ns }, ol);
    el("span", { class: "t", text: e.t }, li);
    li.appendChild(document.createTextNode(e.message));
  }
  while (ol.childNodes.length > 1500) ol.removeChild(ol.firstChild);
  if (stick) ol.scrollTop = ol.scrollHeight;
}

// ------------------------------------------------------------------ health report
function drawHealth(status, text) {
  $("health-status").textContent = status ? `(HTTP ${status})` : "";
  $("health-raw").textContent = text;
  const box = $("health-summary");
  box.textContent = "";
  let body = null;
  try { body = JSON.parse(text); } catch (e) { /* 500: plain text */ }
  if (!body || typeof body !== "object") { el("p", { text: text || "no report yet", id: "health-text" }, box); return; }
  el("p", { id: "health-text", text: `Healthy: ${body.Healthy} · FailureTolerance: ${body.FailureTolerance} · Leader: ${body.Leader} · Voters: ${(body.Voters || []).join(", ")}` }, box);
  const t = el("table", {}, box);
  const hr = el("tr", {}, el("thead", {}, t));
  for (const h of ["Name", "Healthy", "Voter", "Leader", "SerfStatus", "LastTerm", "LastIndex", "LastContact", "StableSince"]) el("th", { scope: "col", text: h }, hr);
  const tb = el("tbody", {}, t);
  for (const s of body.Servers || []) {
    const r = el("tr", {}, tb);
    for (const h of ["Name", "Healthy", "Voter", "Leader", "SerfStatus", "LastTerm", "LastIndex", "LastContact", "StableSince"]) el("td", { text: String(s[h]) }, r);
  }
}
$("raw-toggle").onchange = () => {
  $("health-raw").hidden = !$("raw-toggle").checked;
  $("health-summary").hidden = $("raw-toggle").checked;
};

// ------------------------------------------------------------------ autopilot configuration
const CFG_BOOL = ["CleanupDeadServers", "EnableRedundancyZones", "DisableUpgradeMigration", "EnableCustomUpgrades"];
const CFG_TEXT = ["LastContactThreshold", "ServerStabilizationTime"];
const CFG_NUM = ["MaxTrailingLogs", "MinQuorum"];
async function loadConfig() {
  const r = await api("GET", "/v1/operator/autopilot/configuration");
  if (r.status !== 200) { showResult("config-result", r.status, r.text); return; }
  const c = r.json();
  for (const k of CFG_BOOL) $(`cfg-${k}`).checked = !!c[k];
  for (const k of CFG_TEXT.concat(CFG_NUM)) $(`cfg-${k}`).value = c[k];
  $("cfg-cas").value = c.ModifyIndex;
}
$("btn-config-load").onclick = loadConfig;
$("config-form").onsubmit = async (ev) => {
  ev.preventDefault();
  const body = {};
  for (const k of CFG_BOOL) body[k] = $(`cfg-${k}`).checked;
  for (const k of CFG_TEXT) body[k] = $(`cfg-${k}`).value.trim();
  for (const k of CFG_NUM) body[k] = Number($(`cfg-${k}`).value);
  const cas = $("cfg-use-cas").checked ? `?cas=${encodeURIComponent($("cfg-cas").value)}` : "";
  const r = await api("PUT", `/v1/operator/autopilot/configuration${cas}`, body);
  showResult("config-result", r.status, r.text + (r.text === "false" ? " (check-and-set lost: ModifyIndex has moved on; Reload and try again)" : ""));
  if (r.text === "true") loadConfig().then(() => showResult("config-result", r.status, r.text));
};

// ------------------------------------------------------------------ live mode
let pollTimer = null, pollBusy = false, tick = 0;
function pollSoon() { clearTimeout(pollTimer); pollTimer = setTimeout(poll, 0); }
async function poll() {
  if (pollBusy) return;
  pollBusy = true;
  const started = performance.now();
  try {
    // the three reads go out together (the server answers each from a published snapshot)
    const [r, e, h] = await Promise.all([
      api("GET", `/v1/sim/view?messages=${S.msgSeq}&reports=${S.reportPos}`),
      tick % 2 === 0 ? api("GET", `/v1/sim/events?since=${S.eventPos}`) : null,
      tick % 4 === 0 ? api("GET", "/v1/operator/autopilot/health") : null,
    ]);
    if (r.status === 200) {
      const v = r.json();
      S.clock = v.Clock; S.frame = v.Frame;
      S.msgSeq = v.NextMessage; S.reportPos = v.NextReport;
      S.endNs = v.Clock.EndNs || 0;
      for (const p of v.Timeline) S.timeline.push(p);
      renderLive(v);
      addDots(v.Messages, v.Clock.Speed);
      S.perf.updateLatencies.push(performance.now() - started);
      if (S.perf.updateLatencies.length > 2000) S.perf.updateLatencies.shift();
    } else if (r.status !== 403) {
      banner(`GET /v1/sim/view: ${r.status} ${r.text}`);
    }
    if (e && e.status === 200) { const v = e.json(); addEvents(v.Events); S.eventPos = v.Next; }
    if (h && (h.text !== S.healthText || h.status !== S.healthStatus)) {
      S.healthText = h.text; S.healthStatus = h.status; drawHealth(h.status, h.text);
    }
    tick++;
  } catch (err) {
    banner(`the server is not answering (${err.message}); retrying`);
  } finally {
    pollBusy = false;
    clearTimeout(pollTimer);
    pollTimer = setTimeout(poll, 80);
  }
}
function banner(text) { const b = $("banner"); b.hidden = !text; b.textContent = text || ""; }
function renderLive(v) {
  const c = v.Clock;
  $("time").textContent = fmtDur(c.TimeNs);
  $("scenario").textContent = `${c.Scenario} (seed ${c.Seed})`;
  $("speed-now").textContent = `${+c.Speed.toFixed(2)}×${c.Paused ? " · paused" : ""}${c.Ended ? " · ended" : ""}`;
  $("leader-now").textContent = c.Leader ? `leader ${c.Leader}` : "no leader";
  $("btn-pause").disabled = c.Paused; $("btn-resume").disabled = !c.Paused; $("btn-step").disabled = !c.Paused;
  banner(c.Error ? `simulation stopped: ${c.Error}` : "");
  drawDiagram(v.Frame);
  drawServers(v.Frame);
  drawLogs(v.Frame);
  drawTimeline(S.timeline, v.Frame.TimeNs);
  showFt(S.timeline.length ? S.timeline[S.timeline.length - 1] : null);
  if (document.activeElement !== $("writes")) $("writes").value = v.Frame.WritesPerSecond;
  if (!$("join-name").value) $("join-name").value = nextName(v.Frame);
}
$("btn-pause").onclick = () => act("POST", "/v1/sim/pause");
$("btn-resume").onclick = () => act("POST", "/v1/sim/resume");
$("btn-step").onclick = () => act("POST", "/v1/sim/step");
const speedOf = (v) => Math.round(Math.pow(10, Number(v)) * 100) / 100;
$("speed").oninput = () => { $("speed-out").textContent = `${speedOf($("speed").value)}×`; };
$("speed").onchange = () => act("POST", "/v1/sim/speed", { Speed: speedOf($("speed").value) });

// ------------------------------------------------------------------ replay mode
async function startReplay() {
  const r = await api("GET", "/v1/sim/replay");
  const meta = r.json();
  S.replay = meta; S.timeline = meta.Timeline; S.endNs = meta.EndNs;
  S.events = meta.Events;
  $("scenario").textContent = `${meta.Scenario} (seed ${meta.Seed}) · ${meta.RunDir}`;
  $("scrub").max = String(meta.EndNs / 1e6);
  $("scrub").step = String(Math.max(1, meta.FrameIntervalNs / 1e6));
  if (!meta.Reproduced) banner(meta.Note);
  addEvents(meta.Events);
  await scrubTo(0);
}
let scrubSeq = 0;
async function scrubTo(tNs) {
  const seq = ++scrubSeq;
  S.scrubT = tNs;
  const r = await api("GET", `/v1/sim/view?at=${Math.round(tNs)}`);
  if (seq !== scrubSeq || r.status !== 200) return;
  const v = r.json();
  S.frame = v.Frame;
  $("time").textContent = fmtDur(tNs);
  $("scrub-out").textContent = fmtDur(tNs);
  $("scrub").value = String(Math.round(tNs / 1e6));
  $("scrub").setAttribute("aria-valuetext", fmtDur(tNs));
  $("leader-now").textContent = v.Frame.Leader ? `leader ${v.Frame.Leader}` : "no leader";
  drawDiagram(v.Frame); drawServers(v.Frame); drawLogs(v.Frame);
  drawTimeline(S.timeline, S.endNs, tNs);
  showFt(pointAt(tNs));
  drawHealth(v.Health ? v.Health.status : null, v.Health ? v.Health.text : "no report yet at this time");
  for (const li of $("event-log").childNodes) li.classList.toggle("future", Number(li.dataset.t) > tNs);
  const past = [...$("event-log").childNodes].filter((li) => Number(li.dataset.t) <= tNs);
  if (past.length) { const li = past[past.length - 1]; $("event-log").scrollTop = li.offsetTop - $("event-log").clientHeight + 30; }
  if (S.playing) addDots(v.Frame.Messages, Number($("replay-speed").value));
}
$("scrub").oninput = () => scrubTo(Number($("scrub").value) * 1e6);
let lastPlay = 0;
function replayTick(now) {
  if (!lastPlay) { lastPlay = now; return; }
  if (now - lastPlay < 100) return;
  const dt = (now - lastPlay) * 1e6 * Number($("replay-speed").value);
  lastPlay = now;
  const t = Math.min(S.endNs, S.scrubT + dt);
  scrubTo(t);
  if (t >= S.endNs) togglePlay();
}
function togglePlay() {
  S.playing = !S.playing; lastPlay = 0;
  $("btn-play").textContent = S.playing ? "Stop" : "Play";
}
$("btn-play").onclick = togglePlay;

// ------------------------------------------------------------------ start
async function start() {
  const r = await api("GET", "/v1/sim/time");
  let mode = "live";
  if (r.status === 200) { try { if (r.json().Replay) mode = "replay"; } catch (e) { /* live */ } }
  S.mode = mode;
  $("mode").textContent = mode === "replay" ? "replay" : "live";
  document.body.classList.toggle("replay", mode === "replay");
  $("live-clock").hidden = mode === "replay";
  $("replay-clock").hidden = mode !== "replay";
  if (r.status === 403) {
    // ACLs on and no (valid) token yet: wait for the dialog, then start again
    $("token-dialog").addEventListener("close", () => start(), { once: true });
    return;
  }
  requestAnimationFrame(raf);
  if (mode === "replay") { await startReplay(); return; }
  const c = r.json();
  const sp = Math.log10(Math.min(100, Math.max(0.1, c.Speed)));
  $("speed").value = String(sp); $("speed-out").textContent = `${+c.Speed.toFixed(2)}×`;
  loadConfig();
  poll();
}
start();
