"""The report as one HTML file: the charts of :mod:`.svg`, the tables behind them, and the assistant timelines.

Self-contained: inline CSS, a little inline JavaScript (tabs, the assistant search and its timeline) and a
Content-Security-Policy that forbids every request, so opened offline or online the page asks no host for
anything. Each chart names its SQL file and has its table one click away (``<details>``) and as a CSV ``data:``
link. Every value from the warehouse is escaped (an assistant's name is data, never markup), and the JSON the
script reads is escaped so no ``</script>`` can end it early.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from html import escape
from typing import Any
from urllib.parse import quote

from assistants_export import __version__
from assistants_export.connectors.migration.responses import WARNING_CODES

from . import svg
from .data import ReportData, Table, pivot, top_series

CSP = ("default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:; "
       "base-uri 'none'; form-action 'none'")
"""No request of any kind: everything the page needs is in it."""

SECTIONS = (("fleet", "Fleet"), ("changes", "Changes"), ("timelines", "Assistant timelines"),
            ("tools", "Tools and resources"), ("migration", "Migration readiness"), ("runs", "Run health"))

OUTCOMES = ("not_found", "invalid", "failed", "rejected_id")


def render_html(data: ReportData, *, generated_at: dt.datetime | None = None) -> str:
    """The whole page for ``data``."""
    generated = (generated_at or dt.datetime.now(dt.UTC)).strftime("%Y-%m-%d %H:%M UTC")
    sections = {
        "fleet": _fleet(data),
        "changes": _changes(data),
        "timelines": _timelines_section(data),
        "tools": _tools(data),
        "migration": _migration(data),
        "runs": _runs(data),
    }
    tabs = "".join(f'<button type="button" role="tab" data-tab="{key}" id="tab-{key}">{escape(label)}</button>'
                   for key, label in SECTIONS)
    body = "".join(f'<section id="section-{key}" role="tabpanel" aria-labelledby="tab-{key}"><h2>{escape(label)}</h2>'
                   f"{sections[key]}</section>" for key, label in SECTIONS)
    embedded: dict[str, dict[str, Any]] = {
        name: {"sql": t.sql_file, "columns": list(t.columns), "rows": [list(map(_plain, r)) for r in t.rows]}
        for name, t in data.tables.items()}
    embedded["held_runs"] = {"sql": None, "columns": ["day", "held_runs"],
                             "rows": [[d, n] for d, n in sorted(data.held_runs.items())]}
    span = data.range
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{CSP}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Assistants audit report, {span.first} to {span.last}</title>
<style>{STYLE}</style></head>
<body>
<header><h1>Assistants audit report</h1>
<p>{data.days} snapshot date(s) from <b>{span.first}</b> to <b>{span.last}</b> of the warehouse
<code>{escape(data.warehouse)}</code> (it holds {data.stored.first} to {data.stored.last}). Generated {generated}
by assistants-export {escape(__version__)}. Every chart names the SQL file in <code>sql/report/</code> it comes from;
run it yourself with <code>assistants-export query --file sql/report/NAME.sql --param from_date=... --param
to_date=...</code>.</p>
<nav role="tablist">{tabs}</nav></header>
<main>{body}</main>
<script type="application/json" id="report-data">{_json(embedded)}</script>
<script type="application/json" id="timelines-data">{_json(data.timelines)}</script>
<script type="application/json" id="report-range">{_json({"first": span.first.isoformat(),
                                                          "last": span.last.isoformat()})}</script>
<script>{SCRIPT}</script>
</body></html>
"""


def _plain(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _json(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=_plain)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _figure(chart: str, table: Table, note: str = "") -> str:
    """A chart, the SQL file it comes from, and its table (one click away, and as CSV)."""
    name = table.sql_file.rsplit("/", 1)[-1]
    csv_name = name.replace(".sql", ".csv")
    return (f'<figure class="figure">{chart}<figcaption>Data: <code>{escape(table.sql_file)}</code>'
            f'{" " + note if note else ""} · <a download="{escape(csv_name)}" href="{_csv_uri(table)}">CSV</a>'
            f'</figcaption><details><summary>Show the table ({len(table.rows):,} rows)</summary>{_table(table)}'
            "</details></figure>")


def _table(table: Table, limit: int = 2000) -> str:
    head = "".join(f"<th scope=\"col\">{escape(c)}</th>" for c in table.columns)
    rows = "".join("<tr>" + "".join(f"<td>{escape(_cell(v))}</td>" for v in row) + "</tr>"
                   for row in table.rows[:limit])
    more = (f'<p class="note">The first {limit:,} of {len(table.rows):,} rows; the CSV holds them all.</p>'
            if len(table.rows) > limit else "")
    return f'<div class="scroll"><table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table></div>{more}'


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return json.dumps(_plain(value), ensure_ascii=False)
    return str(value)


def _csv_uri(table: Table) -> str:
    def field(value: Any) -> str:
        text = _cell(value)
        return '"' + text.replace('"', '""') + '"' if any(c in text for c in ',"\n\r') else text

    lines = [",".join(field(c) for c in table.columns), *(",".join(field(v) for v in row) for row in table.rows)]
    return "data:text/csv;charset=utf-8," + quote("\r\n".join(lines) + "\r\n", safe="")


def _days(data: ReportData) -> list[dt.date]:
    return sorted(set(data.tables["run_health"].column("day")))


def _fleet(data: ReportData) -> str:
    days = _days(data)
    fleet = data.tables["fleet_by_model"]
    _, by_model = pivot(fleet, "day", "model", "assistants", days)
    area = svg.stacked_area("Assistants live per day, by model", days, top_series(by_model, svg.MAX_SERIES),
                            x_label="snapshot date", y_label="live assistants", chart="fleet_by_model",
                            what="Live assistants by model")
    births = data.tables["creations_deletions"]
    _, kinds = pivot(births, "day", "change_type", "assistants", days)
    ordered: dict[str, list[float]] = {k: kinds[k] for k in ("created", "deleted", "restored") if k in kinds}
    bars = svg.stacked_bars("Assistants created, deleted and restored per day", days, ordered,
                            x_label="snapshot date", y_label="assistants", chart="creations_deletions",
                            what="Creations, deletions and restorations")
    latest = sum(v[-1] for v in by_model.values()) if by_model else 0
    lead = (f'<p class="lead"><b>{latest:,.0f}</b> assistants live on {days[-1] if days else "-"}; '
            f"<b>{sum(sum(v) for k, v in kinds.items() if k == 'created'):,.0f}</b> created and "
            f"<b>{sum(sum(v) for k, v in kinds.items() if k == 'deleted'):,.0f}</b> deleted in the range "
            "(the first night of a history counts every assistant as created).</p>")
    return lead + _figure(area, fleet) + _figure(bars, births)


def _changes(data: ReportData) -> str:
    days = _days(data)
    fields = data.tables["changes_by_field"]
    _, kinds = pivot(fields, "day", "kind", "changes", days)
    bars = svg.stacked_bars("Field changes per day, by field", days, top_series(kinds, svg.MAX_SERIES),
                            x_label="snapshot date", y_label="field changes", chart="changes_by_field",
                            what="Field changes of updated assistants")
    most = data.tables["most_changed"]
    labels = [f"{r['name'] or '(no name)'} · {r['assistant_id']}" for r in most.records()]
    top = svg.hbars("Most-changed assistants (dates with a change)", labels,
                    [float(v) for v in most.column("days_changed")], x_label="snapshot dates with a change",
                    chart="most_changed", what="Most-changed assistants")
    return _figure(bars, fields) + _figure(top, most, "(open one in the timelines tab)")


def _timelines_section(data: ReportData) -> str:
    changed = sum(1 for t in data.timelines.values() if any(c[1] == "updated" for c in t["c"]))
    left = (f'<p class="note">To keep the file small, the values of {data.values_left_out:,} older change(s) are '
            "left out (the field names stay): <code>assistants-export history ID</code> shows them.</p>"
            if data.values_left_out else "")
    return (f'<p>{len(data.timelines):,} assistants have a version in the range, {changed:,} of them updated. '
            "Search by ID or name; each version is a bar (its colour the model, hatched grey when deleted), each "
            "change a dot, and below it every changed field, instructions as a text diff.</p>"
            '<div class="search"><label for="search">Assistant ID or name</label> '
            '<input id="search" type="search" autocomplete="off" placeholder="asst_... or a name"> '
            '<span id="search-count" aria-live="polite"></span></div>'
            '<ul id="search-results" class="results"></ul>'
            '<div id="timeline" class="timeline" aria-live="polite"></div>'
            f"{left}<p class=\"note\">Data: <code>sql/report/timeline_versions.sql</code> and "
            "<code>sql/report/timeline_changes.sql</code>.</p>")


def _tools(data: ReportData) -> str:
    days = _days(data)
    types = data.tables["tool_types"]
    _, by_type = pivot(types, "day", "type", "assistants", days)
    line = svg.lines("Assistants carrying each tool type, per day", days, top_series(by_type, svg.MAX_SERIES),
                     x_label="snapshot date", y_label="assistants", chart="tool_types",
                     what="Assistants per tool type")
    functions = data.tables["shared_functions"]
    fn = svg.hbars("Function names shared by live assistants", [str(r["function_name"]) for r in functions.records()],
                   [float(v) for v in functions.column("assistants")], x_label="assistants defining it",
                   chart="shared_functions", what="Shared function names")
    resources = data.tables["shared_resources"]
    colours = [svg.PALETTE[0] if r["kind"] == "vector store" else svg.PALETTE[1] for r in resources.records()]
    res = svg.hbars("Vector stores (blue) and files (orange) by the live assistants referencing them",
                    [f"{r['kind']} {r['resource_id']}" for r in resources.records()],
                    [float(v) for v in resources.column("assistants")], x_label="assistants referencing it",
                    chart="shared_resources", what="Referenced vector stores and files", colours=colours)
    return _figure(line, types) + _figure(fn, functions) + _figure(res, resources)


def _migration(data: ReportData) -> str:
    ready = data.tables["migration_readiness"].records()[0]
    total, ok, warned = (int(ready[k] or 0) for k in ("assistants", "ready", "with_warnings"))
    share = f"{ok / total:.0%}" if total else "-"
    chart = svg.hbars("Live assistants converting to a Responses request", ["no warning", "with warnings"],
                      [float(ok), float(warned)], x_label="live assistants", chart="migration_readiness",
                      what="Migration readiness", colours=[svg.PALETTE[2], svg.PALETTE[5]])
    warnings = data.tables["migration_warnings"]
    codes = [str(c) for c in warnings.column("code")]
    by_code = svg.hbars("Migration warnings by code", codes, [float(v) for v in warnings.column("warnings")],
                        x_label="warnings", chart="migration_warnings", what="Migration warnings by code",
                        colours=[svg.PALETTE[5]] * len(codes))
    meanings = "".join(f"<tr><td><code>{escape(code)}</code></td><td>{escape(text)}</td></tr>"
                       for code, text in WARNING_CODES.items())
    return (f'<p class="lead"><b>{ok:,}</b> of <b>{total:,}</b> live assistants ({share}) convert to a Responses '
            "API request with no warning (<code>assistants-export migrate --to responses</code> writes them). What "
            "each warning means and how each field is carried over is the mapping table of the README, section "
            "“Migrating off the Assistants API”.</p>"
            + _figure(chart, data.tables["migration_readiness"]) + _figure(by_code, warnings)
            + f'<details><summary>The warning codes</summary><table><thead><tr><th scope="col">code</th>'
              f'<th scope="col">meaning</th></tr></thead><tbody>{meanings}</tbody></table></details>')


def _runs(data: ReportData) -> str:
    health = data.tables["run_health"]
    days = _days(data)
    series = {name: [float(v) for v in health.column(name)] for name in ("requests", "retries", "rate_limited")}
    line = svg.lines("Requests, retries and rate-limited retries per night", days,
                     {"requests": series["requests"], "retries": series["retries"],
                      "rate-limited retries (429)": series["rate_limited"]},
                     x_label="snapshot date", y_label="requests", chart="run_requests",
                     what="Requests, retries and rate-limited retries")
    errors = {o: [float(v) for v in health.column(o)] for o in OUTCOMES}
    bars = svg.stacked_bars("Fetch errors per night, by outcome", days, errors, x_label="snapshot date",
                            y_label="IDs not ok", chart="run_errors", what="IDs that did not end ok")
    if data.held_counted:
        held = [float(data.held_runs.get(d.isoformat(), 0)) for d in days]
        held_note = (f"<p>Runs held back in the range (kept under <code>held/</code>, never applied): "
                     f"<b>{sum(held):,.0f}</b>"
                     + (" (" + ", ".join(f"{d}: {n:,.0f}" for d, n in zip(days, held, strict=True) if n) + ")"
                        if any(held) else "") + f"; runs applied with an approved gate: "
                     f"<b>{sum(health.column('approved_runs')):,}</b>.</p>")
    else:
        held_note = ("<p>Held-back runs are listed for a folder warehouse only (a bucket's <code>held/</code> "
                     "prefix is not listed).</p>")
    return (held_note + _figure(line, health, "(the stored run of each date; a rate-limited retry waited its "
                                              "Retry-After)")
            + _figure(bars, health))


def section_keys() -> Sequence[str]:
    return [key for key, _ in SECTIONS]


STYLE = """
:root{--ink:#1b1b1b;--muted:#555;--line:#d0d0d0;--accent:#0072B2}
*{box-sizing:border-box}
body{margin:0;font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--ink);background:#fff}
header{padding:16px 24px 0;border-bottom:1px solid var(--line)}
h1{margin:0 0 6px;font-size:22px}h2{font-size:18px;margin:18px 0 8px}
header p{margin:0 0 10px;max-width:1000px;color:var(--muted)}
nav{display:flex;flex-wrap:wrap;gap:4px}
nav button{font:inherit;border:1px solid var(--line);border-bottom:none;background:#f4f4f4;padding:6px 12px;
 cursor:pointer;border-radius:6px 6px 0 0}
nav button[aria-selected=true]{background:#fff;border-color:var(--accent);color:var(--accent);font-weight:600}
main{padding:0 24px 40px}
section[hidden]{display:none}
.lead{font-size:16px}
.figure{margin:14px 0 22px;max-width:780px}
figcaption{font-size:13px;color:var(--muted)}
svg.chart{max-width:100%;height:auto;font-size:11px}
svg .heading{font-size:14px;font-weight:600;fill:var(--ink)}
svg .tick,svg .value{fill:#333}svg .axis-label{fill:#333;font-size:12px}
svg .grid{stroke:#e6e6e6}svg .axis{stroke:#777}
svg .legend text{fill:#333}svg .empty{fill:var(--muted);font-size:13px}
details{margin-top:4px}summary{cursor:pointer;color:var(--accent);font-size:13px}
.scroll{max-height:360px;overflow:auto;border:1px solid var(--line)}
table{border-collapse:collapse;font-size:12.5px}
th,td{padding:3px 8px;border-bottom:1px solid #eee;text-align:left;vertical-align:top}
th{background:#f7f7f7;position:sticky;top:0}
td{max-width:420px;overflow-wrap:anywhere}
.note{font-size:13px;color:var(--muted)}
.search input{font:inherit;padding:5px 8px;width:340px;max-width:100%}
.results{list-style:none;padding:0;margin:6px 0;display:flex;flex-wrap:wrap;gap:4px}
.results button{font:inherit;font-size:13px;border:1px solid var(--line);background:#fafafa;border-radius:4px;
 padding:2px 8px;cursor:pointer}
.timeline h3{margin:10px 0 4px;font-size:16px}
.diff{font:12px/1.4 ui-monospace,Menlo,Consolas,monospace;white-space:pre-wrap;margin:2px 0;padding:4px;
 background:#fafafa;border:1px solid #eee;max-width:900px}
.diff .add{background:#e0f0ff;display:block}.diff .del{background:#fde8d8;display:block}
.diff .add::before{content:"+ "}.diff .del::before{content:"- "}.diff .ctx::before{content:"  "}
.diff .ctx{display:block;color:#555}
.change{margin:8px 0 12px}
"""

SCRIPT = r"""
(function(){
"use strict";
var PALETTE=["#0072B2","#E69F00","#009E73","#CC79A7","#56B4E9","#D55E00","#F0E442","#000000"];
var SVG="http://www.w3.org/2000/svg";
function json(id){return JSON.parse(document.getElementById(id).textContent);}
function el(tag,attrs,text){var e=document.createElement(tag);for(var k in attrs){e.setAttribute(k,attrs[k]);}
 if(text!=null){e.textContent=text;}return e;}
function sv(tag,attrs,text){var e=document.createElementNS(SVG,tag);for(var k in attrs){e.setAttribute(k,attrs[k]);}
 if(text!=null){e.textContent=text;}return e;}
// Tabs
var tabs=document.querySelectorAll("nav button[data-tab]");
function show(key){tabs.forEach(function(b){var on=b.getAttribute("data-tab")===key;b.setAttribute("aria-selected",on);
 document.getElementById("section-"+b.getAttribute("data-tab")).hidden=!on;});
 if(history.replaceState){history.replaceState(null,"","#"+key);}}
tabs.forEach(function(b){b.addEventListener("click",function(){show(b.getAttribute("data-tab"));});});
var first=(location.hash||"").slice(1);
show(document.querySelector('nav button[data-tab="'+first+'"]')?first:"fleet");
// Timelines
var timelines=json("timelines-data"),range=json("report-range");
var keys=Object.keys(timelines).sort();
var models={},nextColour=0;
function colour(model){if(!(model in models)){models[model]=PALETTE[nextColour%PALETTE.length];nextColour++;}
 return models[model];}
function day(s){return Date.parse(s+"T00:00:00Z")/86400000;}
var start=day(range.first),end=day(range.last)+1;
function draw(key){
 var t=timelines[key],box=document.getElementById("timeline");box.textContent="";
 if(!t){return;}
 box.appendChild(el("h3",{},(t.n||"(no name)")+" · "+t.i+(t.s?" ("+t.s+")":"")));
 var W=760,H=110,L=20,R=20,top=28,bar=28,w=W-L-R;
 function x(d){return L+w*(Math.min(Math.max(d,start),end)-start)/(end-start);}
 var desc=t.v.length+" version(s) from "+range.first+" to "+range.last+"; "+t.c.length+" change row(s).";
 var s=sv("svg",{"class":"chart","data-chart":"timeline",role:"img",viewBox:"0 0 "+W+" "+H,width:W,height:H,
  "aria-label":"Timeline of "+t.i});
 s.appendChild(sv("title",{},"Timeline of "+t.i));s.appendChild(sv("desc",{},desc));
 s.appendChild(sv("text",{x:L,y:16,"class":"heading"},"Versions of "+t.i+", "+range.first+" to "+range.last));
 var defs=sv("defs",{}),pat=sv("pattern",{id:"hatch",width:6,height:6,patternUnits:"userSpaceOnUse",
  patternTransform:"rotate(45)"});pat.appendChild(sv("rect",{width:6,height:6,fill:"#ddd"}));
 pat.appendChild(sv("line",{x1:0,y1:0,x2:0,y2:6,stroke:"#888","stroke-width":2}));defs.appendChild(pat);s.appendChild(defs);
 t.v.forEach(function(v){var a=day(v[0]),b=v[1]?day(v[1]):end,x0=x(a),x1=x(b);
  var r=sv("rect",{"class":"mark",x:x0,y:top,width:Math.max(x1-x0,1.5),height:bar,
   fill:v[2]?"url(#hatch)":colour(v[3]),stroke:"#fff"});
  r.appendChild(sv("title",{},(v[2]?"deleted":"version")+" from "+v[0]+(v[1]?" to "+v[1]:" (current)")+": "+
   (v[4]||t.n||"(no name)")+", "+v[3]));s.appendChild(r);});
 var dates={};t.c.forEach(function(c){dates[c[0]]=(dates[c[0]]||0)+1;});
 Object.keys(dates).forEach(function(d){var c=sv("circle",{"class":"mark",cx:x(day(d)),cy:top+bar+12,r:5,
  fill:"#D55E00"});c.appendChild(sv("title",{},d+": "+dates[d]+" change row(s)"));s.appendChild(c);});
 s.appendChild(sv("line",{"class":"axis",x1:L,x2:L+w,y1:top+bar+22,y2:top+bar+22}));
 s.appendChild(sv("text",{"class":"tick",x:L,y:H-6},range.first));
 s.appendChild(sv("text",{"class":"tick",x:L+w,y:H-6,"text-anchor":"end"},range.last));
 s.appendChild(sv("text",{"class":"axis-label",x:L+w/2,y:H-6,"text-anchor":"middle"},"snapshot date"));
 box.appendChild(s);
 var legend=el("p",{"class":"note"});
 t.v.forEach(function(v,i){if(i&&t.v[i-1][3]===v[3]&&t.v[i-1][2]===v[2]){return;}
  var sw=el("span",{style:"display:inline-block;width:10px;height:10px;margin:0 4px 0 10px;background:"+
   (v[2]?"#bbb":colour(v[3]))});legend.appendChild(sw);legend.appendChild(document.createTextNode(
   (v[2]?"deleted":v[3])+" from "+v[0]));});
 box.appendChild(legend);
 var byDay={};t.c.forEach(function(c){(byDay[c[0]]=byDay[c[0]]||[]).push(c);});
 Object.keys(byDay).sort().forEach(function(d){var div=el("div",{"class":"change"});
  var rows=byDay[d],whole=rows.filter(function(c){return c[2]==null;});
  div.appendChild(el("h4",{},d+(whole.length?": "+whole.map(function(c){return c[1];}).join(", "):": updated")));
  var fields=rows.filter(function(c){return c[2]!=null;});
  if(fields.length){var tb=el("table"),hd=el("tr");["field","before","after"].forEach(function(h){
   hd.appendChild(el("th",{scope:"col"},h));});tb.appendChild(el("thead")).appendChild(hd);var body=el("tbody");
   fields.forEach(function(c){var tr=el("tr");tr.appendChild(el("td",{},c[2]));
    if(c[5]){var td=el("td",{colspan:2}),pre=el("div",{"class":"diff"});c[5].forEach(function(line){
      var k=line.charAt(0)==="+"?"add":line.charAt(0)==="-"?"del":"ctx";
      pre.appendChild(el("span",{"class":k},line.slice(1)));});td.appendChild(pre);tr.appendChild(td);}
    else if(!c[6]){tr.appendChild(el("td",{colspan:2,"class":"note"},
     "(value left out: assistants-export history "+t.i+")"));}
    else{tr.appendChild(el("td",{},c[3]===null?"(absent)":c[3]));tr.appendChild(el("td",{},c[4]===null?"(absent)":c[4]));}
    body.appendChild(tr);});tb.appendChild(body);div.appendChild(tb);}
  box.appendChild(div);});
 box.setAttribute("data-shown",key);
}
var input=document.getElementById("search"),list=document.getElementById("search-results"),
 counter=document.getElementById("search-count");
function search(){var q=input.value.trim().toLowerCase();list.textContent="";
 var found=keys.filter(function(k){var t=timelines[k];return !q||t.i.toLowerCase().indexOf(q)>=0||
  (t.n||"").toLowerCase().indexOf(q)>=0;});
 counter.textContent=found.length+" match"+(found.length===1?"":"es");
 found.slice(0,q?30:12).forEach(function(k){var t=timelines[k],li=el("li"),b=el("button",{type:"button",
  "data-key":k},(t.n||"(no name)")+" · "+t.i);b.addEventListener("click",function(){draw(k);});
  li.appendChild(b);list.appendChild(li);});
 if(q&&found.length){draw(found[0]);}
 return found;}
input.addEventListener("input",search);
window.reportSearch=function(q){input.value=q;return search();};
search();
var most=json("report-data").most_changed;
var firstKey=most.rows.length?most.rows[0][0]+"/"+most.rows[0][1]:keys[0];
if(firstKey){draw(firstKey);}
})();
"""
