// The live page: one static HTML document with a few lines of script that follow /live/stream
// (server-sent events: each event as the view receives it) and poll /live/status once a second (the
// figures: rates, lag, outbox, publisher, relay, readiness). No build step, no framework, nothing
// fetched from anywhere else: the chart is plain SVG drawn by the script. It must open on any browser
// a user has, at phone width too. Every text from the stream goes in through textContent, never as HTML.

export const livePage = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Kaireon events — live</title>
<style>
  * { box-sizing: border-box; }
  body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5rem; color: #1b1f24; background: #fafafa; }
  h1 { font-size: 1.3rem; margin: 0 0 .25rem; }
  h2 { font-size: 1rem; margin: 1.2rem 0 .4rem; }
  .muted { color: #667; }
  .ok { color: #1a7f37; } .bad { color: #cf222e; } .warn { color: #9a6700; }
  #status.live { color: #1a7f37; } #status.down { color: #cf222e; }
  .cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(150px, 1fr)); gap: .5rem; margin: .8rem 0; }
  .card { background: #fff; border: 1px solid #d0d7de; border-radius: 6px; padding: .5rem .7rem; min-width: 0; }
  .card .label { font-size: 12px; color: #667; }
  .card .value { font-size: 1.25rem; font-weight: 600; font-variant-numeric: tabular-nums; overflow-wrap: anywhere; }
  .card .value.small { font-size: .9rem; }
  .chart { background: #fff; border: 1px solid #d0d7de; border-radius: 6px; padding: .5rem; }
  #rate-chart { width: 100%; height: 180px; display: block; }
  #rate-chart .grid { stroke: #eee; } #rate-chart text { font-size: 11px; fill: #667; }
  .legend span { margin-right: 1rem; white-space: nowrap; }
  .swatch { display: inline-block; width: .8rem; height: .25rem; vertical-align: middle; margin-right: .3rem; }
  .tables { display: flex; flex-wrap: wrap; gap: 1rem; }
  table { border-collapse: collapse; margin: .4rem 0; background: #fff; }
  th, td { border: 1px solid #d0d7de; padding: .35rem .7rem; text-align: left; }
  td.count, td.stored { text-align: right; font-variant-numeric: tabular-nums; font-weight: 600; }
  .filters { display: flex; flex-wrap: wrap; gap: .5rem; align-items: center; margin: .4rem 0; }
  .filters select { font: inherit; padding: .2rem; max-width: 100%; }
  #events { list-style: none; padding: 0; margin: 0; font: 12px/1.5 ui-monospace, monospace; max-height: 50vh; overflow: auto; background: #fff; border: 1px solid #d0d7de; }
  #events li { padding: .15rem .6rem; border-bottom: 1px solid #eee; white-space: nowrap; cursor: pointer; }
  #events li:hover, #events li:focus { background: #f0f6ff; outline: none; }
  .t-interaction { color: #0550ae; } .t-decision { color: #8250df; }
  #detail { position: fixed; top: 1rem; right: 1rem; bottom: 1rem; width: min(40rem, calc(100vw - 2rem)); background: #fff; border: 1px solid #8c959f;
    border-radius: 6px; box-shadow: 0 8px 24px rgba(0,0,0,.2); padding: .8rem; display: flex; flex-direction: column; }
  #detail[hidden] { display: none; }
  #detail pre { flex: 1; overflow: auto; margin: .5rem 0 0; font: 12px/1.45 ui-monospace, monospace; background: #f6f8fa; padding: .5rem; white-space: pre-wrap; overflow-wrap: anywhere; }
  #detail header { display: flex; justify-content: space-between; gap: .5rem; align-items: center; }
  button { font: inherit; }
  @media (max-width: 640px) {
    body { margin: .6rem; }
    .cards { grid-template-columns: repeat(2, minmax(0, 1fr)); }
    #events li { white-space: normal; overflow-wrap: anywhere; }
    #detail { top: 0; right: 0; bottom: 0; left: 0; width: auto; border-radius: 0; }
    table { width: 100%; }
    .tables > div { flex: 1 1 100%; }
  }
</style>
</head>
<body>
<h1>Kaireon domain event stream</h1>
<div class="muted">backend <b id="backend">…</b> · <span id="ready">…</span> · <span id="status">connecting…</span></div>
<div class="muted" id="origin"></div>

<div class="cards">
  <div class="card"><div class="label">events/s (last 10 s)</div><div class="value" id="rate-now">–</div></div>
  <div class="card"><div class="label">lag p50 (event → view)</div><div class="value" id="lag-p50">–</div></div>
  <div class="card"><div class="label">lag p99 (last 30 s)</div><div class="value" id="lag-p99">–</div></div>
  <div class="card"><div class="label">outbox backlog</div><div class="value" id="backlog">–</div></div>
  <div class="card"><div class="label">oldest pending</div><div class="value" id="oldest">–</div></div>
  <div class="card"><div class="label">publisher pending</div><div class="value" id="pub-pending">–</div></div>
  <div class="card"><div class="label">publish failures</div><div class="value small" id="failures">–</div></div>
  <div class="card"><div class="label">relay</div><div class="value small" id="relay-state">–</div></div>
</div>

<h2>Events per second, last 5 minutes</h2>
<div class="chart">
  <svg id="rate-chart" viewBox="0 0 600 180" role="img" aria-label="events per second per topic"></svg>
  <div class="legend muted" id="legend"></div>
</div>

<div class="tables">
  <div>
    <h2>Totals</h2>
    <table>
      <thead><tr><th>topic</th><th>events</th><th>stored</th></tr></thead>
      <tbody id="topics"></tbody>
    </table>
  </div>
  <div>
    <h2>Interaction types</h2>
    <table>
      <thead><tr><th>interaction type</th><th>events</th></tr></thead>
      <tbody id="types"></tbody>
    </table>
  </div>
</div>

<h2>Events</h2>
<div class="filters">
  <label>topic <select id="f-topic"><option value="">all</option></select></label>
  <label>tenant <select id="f-tenant"><option value="">all</option></select></label>
  <label>interaction <select id="f-type"><option value="">all</option></select></label>
  <span class="muted" id="shown"></span>
</div>
<ul id="events"></ul>

<section id="detail" hidden aria-label="event">
  <header><b id="detail-title"></b><button id="detail-close" type="button">close</button></header>
  <pre id="detail-json"></pre>
</section>

<script>
  const $ = (id) => document.getElementById(id);
  const COLORS = { "interaction.recorded.v1": "#0550ae", "decision.made.v1": "#8250df" };
  const KEEP = 500, SHOW = 200;
  const events = []; // newest last, at most KEEP
  const byId = new Map();
  let totalsNow = { counts: {}, byInteractionType: {} };
  let stored = {};
  let dirty = false;

  function row(body, prefix, key, cells) {
    let tr = document.getElementById(prefix + key);
    if (!tr) {
      tr = document.createElement("tr");
      tr.id = prefix + key;
      const name = document.createElement("td");
      name.textContent = key;
      tr.append(name);
      cells.forEach((_, i) => {
        const td = document.createElement("td");
        td.className = i === 0 ? "count" : "stored";
        tr.append(td);
      });
      body.append(tr);
    }
    cells.forEach((v, i) => { tr.children[i + 1].textContent = v; });
  }
  function option(select, value) {
    if (!value || [...select.options].some((o) => o.value === value)) return;
    const o = document.createElement("option");
    o.value = o.textContent = value;
    select.append(o);
  }
  function matches(e) {
    const topic = $("f-topic").value, tenant = $("f-tenant").value, type = $("f-type").value;
    return (!topic || e.type === topic) && (!tenant || e.tenantId === tenant) && (!type || e.interactionType === type);
  }
  function render() {
    dirty = false;
    const storedFor = { "interaction.recorded.v1": stored.interactions, "decision.made.v1": stored.decisions };
    for (const [k, v] of Object.entries(totalsNow.counts)) {
      row($("topics"), "count-", k, [String(v), storedFor[k] === undefined ? "–" : String(storedFor[k])]);
      option($("f-topic"), k);
    }
    for (const [k, v] of Object.entries(totalsNow.byInteractionType)) { row($("types"), "type-", k, [String(v)]); option($("f-type"), k); }
    const shown = [];
    for (let i = events.length - 1; i >= 0 && shown.length < SHOW; i--) if (matches(events[i])) shown.push(events[i]);
    const list = $("events");
    list.replaceChildren(...shown.map((e) => {
      const li = document.createElement("li");
      li.className = e.type.startsWith("interaction") ? "t-interaction" : "t-decision";
      li.tabIndex = 0;
      li.dataset.id = e.id;
      li.dataset.topic = e.type;
      li.dataset.tenant = e.tenantId;
      if (e.interactionType) li.dataset.interaction = e.interactionType;
      li.textContent = e.time + "  " + e.type + "  " + e.tenantId + "/" + e.customerId + "  " + e.summary;
      return li;
    }));
    const filtered = $("f-topic").value || $("f-tenant").value || $("f-type").value;
    $("shown").textContent = filtered ? shown.length + " of the last " + events.length + " shown" : "";
  }
  function later() { if (!dirty) { dirty = true; setTimeout(render, 200); } }
  function add(e) {
    events.push(e);
    byId.set(e.id, e);
    if (events.length > KEEP) byId.delete(events.shift().id);
    option($("f-tenant"), e.tenantId);
    option($("f-type"), e.interactionType);
  }
  function open(id) {
    const e = byId.get(id);
    if (!e) return;
    $("detail-title").textContent = e.type + " " + e.id;
    $("detail-json").textContent = JSON.stringify(e.cloudEvent ?? e, null, 2);
    $("detail").hidden = false;
  }
  $("events").addEventListener("click", (ev) => { const li = ev.target.closest("li"); if (li) open(li.dataset.id); });
  $("events").addEventListener("keydown", (ev) => { if (ev.key === "Enter") { const li = ev.target.closest("li"); if (li) open(li.dataset.id); } });
  $("detail-close").addEventListener("click", () => { $("detail").hidden = true; });
  document.addEventListener("keydown", (ev) => { if (ev.key === "Escape") $("detail").hidden = true; });
  for (const id of ["f-topic", "f-tenant", "f-type"]) $(id).addEventListener("change", render);

  const ms = (v) => v === null || v === undefined ? "–" : v < 10 ? v.toFixed(1) + " ms" : v < 10000 ? Math.round(v) + " ms" : (v / 1000).toFixed(1) + " s";
  function age(v) { return typeof v !== "number" ? "–" : v === 0 ? "none" : ms(v); }

  function chart(rates) {
    const svg = $("rate-chart");
    // One SVG unit per CSS pixel, so the labels keep their shape at any width.
    const W = Math.max(200, Math.round(svg.getBoundingClientRect().width) || 600), H = 180, L = 34, B = 16, T = 6;
    svg.setAttribute("viewBox", "0 0 " + W + " " + H);
    const topics = Object.keys(rates.perTopic);
    const n = Math.max(2, ...topics.map((t) => rates.perTopic[t].length));
    let max = 1;
    for (const t of topics) for (const v of rates.perTopic[t]) if (v > max) max = v;
    const x = (i) => L + (i / (n - 1)) * (W - L - 2);
    const y = (v) => T + (1 - v / max) * (H - T - B);
    const NS = "http://www.w3.org/2000/svg";
    const el = (name, attrs, text) => { const e = document.createElementNS(NS, name); for (const k in attrs) e.setAttribute(k, attrs[k]); if (text !== undefined) e.textContent = text; return e; };
    const parts = [
      el("line", { class: "grid", x1: L, x2: W, y1: y(max), y2: y(max) }),
      el("line", { class: "grid", x1: L, x2: W, y1: y(max / 2), y2: y(max / 2) }),
      el("line", { class: "grid", x1: L, x2: W, y1: y(0), y2: y(0) }),
      el("text", { x: 2, y: y(max) + 10 }, String(max)),
      el("text", { x: 2, y: y(max / 2) + 4 }, String(Math.round(max / 2))),
      el("text", { x: 2, y: y(0) }, "0"),
      el("text", { x: L, y: H - 2 }, "−" + Math.round(n / 60) + " min"),
      el("text", { x: W - 26, y: H - 2 }, "now"),
    ];
    for (const t of topics) {
      const d = rates.perTopic[t].map((v, i) => (i ? "L" : "M") + x(i).toFixed(1) + " " + y(v).toFixed(1)).join(" ");
      parts.push(el("path", { class: "series", "data-topic": t, d, fill: "none", stroke: COLORS[t] || "#444", "stroke-width": 1.5, "vector-effect": "non-scaling-stroke" }));
    }
    svg.replaceChildren(...parts);
    const legend = $("legend");
    legend.replaceChildren(...topics.map((t) => {
      const s = document.createElement("span");
      const sw = document.createElement("i");
      sw.className = "swatch";
      sw.style.background = COLORS[t] || "#444";
      const last10 = rates.perTopic[t].slice(-10).reduce((a, b) => a + b, 0) / 10;
      s.append(sw, t + " " + last10.toFixed(1) + "/s");
      return s;
    }));
    const all = topics.reduce((sum, t) => sum + rates.perTopic[t].slice(-10).reduce((a, b) => a + b, 0), 0) / 10;
    $("rate-now").textContent = all.toFixed(1);
  }

  function relayText(s) {
    if (s.relayMode === "separate") return "separate process";
    const r = s.relay;
    if (!r || typeof r !== "object") return String(r ?? "–");
    return (r.running ? r.state : "not running" + (r.reason ? " (" + r.reason + ")" : "")) + " · " + s.relayMode + " · sent " + (r.sent ?? 0);
  }
  function update(s) {
    $("backend").textContent = s.backend + (s.requested && s.requested !== s.backend ? " (" + s.requested + ")" : "");
    const ready = $("ready");
    const detail = s.publisher && typeof s.publisher === "object" && s.publisher.detail ? ": " + s.publisher.detail : "";
    ready.textContent = s.ready ? "ready" : "not ready" + detail;
    ready.className = s.ready ? "ok" : "bad";
    const o = s.view.origin;
    $("origin").textContent = o.mode === "replay"
      ? "totals count from the earliest event the backend keeps (they equal the stored counts once caught up)"
      : o.since ? "live since " + new Date(o.since).toLocaleString() + " (this backend keeps no history: earlier events are not counted)" : "subscribing…";
    $("lag-p50").textContent = ms(s.view.lag.p50Ms);
    $("lag-p99").textContent = ms(s.view.lag.p99Ms);
    const ob = s.outbox && typeof s.outbox === "object" ? s.outbox : undefined;
    $("backlog").textContent = ob ? String(ob.backlog) + (ob.deadRows ? " · " + ob.deadRows + " dead" : "") : String(s.outbox ?? "–");
    $("oldest").textContent = ob ? age(ob.oldestPendingAgeMs) : "–";
    const pm = s.publisherMetrics;
    $("pub-pending").textContent = pm ? String(pm.pending) : s.relayMode === "separate" ? "in the relay process" : "–";
    const failures = pm ? Object.entries(pm.failures || {}) : [];
    const f = $("failures");
    f.textContent = !pm ? "–" : failures.length === 0 ? "none" : failures.map(([code, n]) => code + " " + n).join(", ");
    f.className = "value small " + (failures.length ? "bad" : "");
    $("relay-state").textContent = relayText(s);
    stored = s.counts && typeof s.counts === "object" ? s.counts : {};
    chart(s.view.rates);
    later();
  }

  // With DEMO_LIVE_TOKEN set the page is opened as /live?token=…; EventSource cannot send a header,
  // so the stream gets the same token in its query; the status poll sends it as a bearer token.
  const token = new URLSearchParams(location.search).get("token");
  async function poll() {
    try {
      const res = await fetch("/live/status", { headers: token ? { authorization: "Bearer " + token } : {}, cache: "no-store" });
      if (res.ok) update(await res.json());
    } catch {}
    setTimeout(poll, 1000);
  }
  poll();
  const source = new EventSource(token ? "/live/stream?token=" + encodeURIComponent(token) : "/live/stream");
  source.addEventListener("snapshot", (m) => {
    const s = JSON.parse(m.data);
    $("backend").textContent = s.backend;
    events.length = 0;
    byId.clear();
    for (const e of s.recent) add(e);
    totalsNow = { counts: s.counts, byInteractionType: s.byInteractionType };
    if (s.rates) chart(s.rates);
    render();
  });
  source.addEventListener("event", (m) => {
    const { event, counts, byInteractionType } = JSON.parse(m.data);
    totalsNow = { counts, byInteractionType };
    add(event);
    later();
  });
  source.onopen = () => { $("status").textContent = "live"; $("status").className = "live"; };
  source.onerror = () => { $("status").textContent = "reconnecting…"; $("status").className = "down"; };
</script>
</body>
</html>
`;
