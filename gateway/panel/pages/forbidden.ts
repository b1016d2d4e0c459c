const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** The server's own refusal page: a role that may not open a page gets this, not the page with its buttons hidden. */
export function forbiddenPage(role: string, needs: string): string {
  return `<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>403 无权访问</title><link rel="stylesheet" href="/ui/style.css"></head>
<body class="plain"><main class="narrow"><h1>403 无权访问 / Forbidden</h1>
<p>当前账号角色（${esc(role)}）无权打开此页面（需要：${esc(needs)}）。</p>
<p>Your role (${esc(role)}) may not open this page (it needs: ${esc(needs)}).</p>
<p><a href="/">返回警情看板 / Back to the alarm board</a></p></main></body></html>`;
}
