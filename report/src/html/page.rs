//! The page shell: inline CSS (screen and print), a header and the body; nothing is fetched.

use super::chart::STYLE;
use super::escape::esc;

const CSS: &str = r#"
:root{--fg:#111827;--mut:#6b7280;--bd:#e5e7eb;--bg:#f9fafb;--ac:#2563eb}
*{box-sizing:border-box}
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);margin:0;background:#fff;line-height:1.4}
header{background:#111827;color:#fff;padding:12px 24px;display:flex;gap:24px;align-items:baseline;flex-wrap:wrap}
header a{color:#bfdbfe;text-decoration:none}
header h1{font-size:18px;margin:0}
main{padding:16px 24px;max-width:1400px}
h2{font-size:18px;border-bottom:2px solid var(--bd);padding-bottom:4px;margin-top:32px}
h3{font-size:15px;margin:20px 0 8px}
table{border-collapse:collapse;margin:8px 0;font-size:13px}
th,td{border:1px solid var(--bd);padding:4px 8px;text-align:left;vertical-align:top}
th{background:var(--bg)}
td.n{text-align:right;font-variant-numeric:tabular-nums}
.cards{display:flex;flex-wrap:wrap;gap:12px;margin:8px 0}
.card{border:1px solid var(--bd);border-radius:8px;padding:8px 14px;min-width:140px;background:var(--bg)}
.card .v{font-size:20px;font-weight:600}
.card .k{font-size:12px;color:var(--mut)}
.charts{display:flex;flex-wrap:wrap;gap:12px}
svg.chart{width:min(100%,600px);height:auto;border:1px solid var(--bd);border-radius:6px;background:#fff}
.muted{color:var(--mut)}
.ok{color:#15803d}.bad{color:#b91c1c}
pre{white-space:pre-wrap;word-break:break-word;background:var(--bg);border:1px solid var(--bd);padding:6px;margin:0;max-height:24em;overflow:auto;font-size:12px}
form.filters{display:flex;flex-wrap:wrap;gap:8px;align-items:end;margin:8px 0}
form.filters label{font-size:12px;display:flex;flex-direction:column}
.pager{margin:8px 0;display:flex;gap:12px}
@media print{header{background:none;color:#000}header a{display:none}main{padding:0}section{break-inside:avoid}svg.chart{border:none}}
"#;

/// The page's own Content-Security-Policy, as the dashboard sends it in a header (no script at
/// all), so a `report.html` opened from disk keeps it; `frame-ancestors` has no effect in a
/// meta tag and is left to the header.
pub const CSP_META: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'self'; base-uri 'none'";

/// A whole HTML document: `title` (escaped), `nav` and `body` (already-escaped HTML).
pub fn page(title: &str, nav: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta http-equiv=\"Content-Security-Policy\" content=\"{CSP_META}\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{t}</title><style>{CSS}{STYLE}</style></head><body><header><h1>{t}</h1>{nav}</header><main>{body}</main></body></html>\n",
        t = esc(title)
    )
}

/// A row of summary cards from (label, value) pairs (escaped here).
pub fn cards(items: &[(&str, String)]) -> String {
    let mut out = String::from("<div class=\"cards\">");
    for (k, v) in items {
        out.push_str(&format!(
            "<div class=\"card\"><div class=\"v\">{}</div><div class=\"k\">{}</div></div>",
            esc(v),
            esc(k)
        ));
    }
    out.push_str("</div>");
    out
}

/// A table with `header` cells (escaped here) and rows of already-escaped cells; cells that
/// look numeric are right-aligned.
pub fn table(class: &str, header: &[&str], rows: &[Vec<String>]) -> String {
    let mut out = format!("<table class=\"{}\"><thead><tr>", esc(class));
    for h in header {
        out.push_str(&format!("<th>{}</th>", esc(h)));
    }
    out.push_str("</tr></thead><tbody>");
    for row in rows {
        out.push_str("<tr>");
        for cell in row {
            let numeric = cell == crate::NO_DATA
                || (!cell.is_empty()
                    && cell
                        .chars()
                        .all(|c| c.is_ascii_digit() || ".-e%".contains(c)));
            if numeric {
                out.push_str(&format!("<td class=\"n\">{cell}</td>"));
            } else {
                out.push_str(&format!("<td>{cell}</td>"));
            }
        }
        out.push_str("</tr>");
    }
    out.push_str("</tbody></table>");
    out
}
