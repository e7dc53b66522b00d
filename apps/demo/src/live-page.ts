// The live page: one static HTML document with a few lines of script that follow /live/stream
// (server-sent events). No build step, no framework: it must open on any browser a user has.

export const livePage = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Kaireon events — live</title>
<style>
  body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5rem; color: #1b1f24; background: #fafafa; }
  h1 { font-size: 1.3rem; margin: 0 0 .25rem; }
  .muted { color: #667; }
  #status.live { color: #1a7f37; } #status.down { color: #cf222e; }
  table { border-collapse: collapse; margin: 1rem 0; background: #fff; }
  th, td { border: 1px solid #d0d7de; padding: .35rem .7rem; text-align: left; }
  td.count { text-align: right; font-variant-numeric: tabular-nums; font-weight: 600; }
  #events { list-style: none; padding: 0; font: 12px/1.5 ui-monospace, monospace; max-height: 60vh; overflow: auto; background: #fff; border: 1px solid #d0d7de; }
  #events li { padding: .15rem .6rem; border-bottom: 1px solid #eee; white-space: nowrap; }
  .t-interaction { color: #0550ae; } .t-decision { color: #8250df; }
</style>
</head>
<body>
<h1>Kaireon domain event stream</h1>
<div class="muted">backend <b id="backend">…</b> · <span id="status">connecting…</span></div>
<table>
  <thead><tr><th>topic</th><th>events</th></tr></thead>
  <tbody id="topics"></tbody>
</table>
<table>
  <thead><tr><th>interaction type</th><th>events</th></tr></thead>
  <tbody id="types"></tbody>
</table>
<ul id="events"></ul>
<script>
  const topics = document.getElementById("topics");
  const types = document.getElementById("types");
  const list = document.getElementById("events");
  const status = document.getElementById("status");
  function row(body, prefix, key, value) {
    let tr = document.getElementById(prefix + key);
    if (!tr) {
      tr = document.createElement("tr");
      tr.id = prefix + key;
      const name = document.createElement("td");
      name.textContent = key;
      const count = document.createElement("td");
      count.className = "count";
      count.dataset.topic = key;
      tr.append(name, count);
      body.append(tr);
    }
    tr.lastChild.textContent = String(value);
  }
  function totals(t) {
    for (const [k, v] of Object.entries(t.counts)) row(topics, "count-", k, v);
    for (const [k, v] of Object.entries(t.byInteractionType)) row(types, "type-", k, v);
  }
  function add(e) {
    const li = document.createElement("li");
    li.className = e.type.startsWith("interaction") ? "t-interaction" : "t-decision";
    li.textContent = e.time + "  " + e.type + "  " + e.tenantId + "/" + e.customerId + "  " + e.summary;
    list.prepend(li);
    while (list.children.length > 200) list.lastChild.remove();
  }
  // With DEMO_LIVE_TOKEN set the page is opened as /live?token=…; EventSource cannot send a header,
  // so the stream gets the same token in its query.
  const token = new URLSearchParams(location.search).get("token");
  const source = new EventSource(token ? "/live/stream?token=" + encodeURIComponent(token) : "/live/stream");
  source.addEventListener("snapshot", (m) => {
    const s = JSON.parse(m.data);
    document.getElementById("backend").textContent = s.backend;
    list.replaceChildren();
    totals(s);
    for (const e of s.recent) add(e);
  });
  source.addEventListener("event", (m) => {
    const { event, counts, byInteractionType } = JSON.parse(m.data);
    totals({ counts, byInteractionType });
    add(event);
  });
  source.onopen = () => { status.textContent = "live"; status.className = "live"; };
  source.onerror = () => { status.textContent = "reconnecting…"; status.className = "down"; };
</script>
</body>
</html>
`;
