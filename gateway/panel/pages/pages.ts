import { z } from 'zod';
import type { Allow } from '../auth/roles.ts';
import { route, emptyQuery, type RouteDef } from '../route-table.ts';

/**
 * The panel's pages. Each is the same small HTML shell naming its page; the
 * server checks the page's access before sending it (a guard asking for an
 * installer page gets a 403 page, not a page with its buttons hidden), and
 * the page's module then loads its data from the API, which checks again.
 */
export interface PageDef {
  url: string;
  page: string;
  allow: Allow;
  title: string;
}

export const PAGES: readonly PageDef[] = [
  { url: '/login', page: 'login', allow: 'public', title: '登录' },
  { url: '/setup', page: 'setup', allow: 'public', title: '首次设置' },
  { url: '/', page: 'board', allow: 'read', title: '警情看板' },
  { url: '/alarms/:id', page: 'alarm', allow: 'read', title: '警情详情' },
  { url: '/devices', page: 'devices', allow: 'read', title: '设备' },
  { url: '/plan', page: 'plan', allow: 'read', title: '电子地图' },
  { url: '/upstream', page: 'upstream', allow: 'read', title: '上级平台' },
  { url: '/reports', page: 'reports', allow: 'reports', title: '统计报表' },
  { url: '/audit', page: 'audit', allow: 'audit', title: '操作日志' },
  { url: '/users', page: 'users', allow: 'users', title: '账号管理' },
  { url: '/account', page: 'account', allow: 'session', title: '我的账号' },
  { url: '/installer', page: 'installer', allow: 'install', title: '安装调试' },
  { url: '/installer/devices/new', page: 'add-device', allow: 'install', title: '添加设备' },
  { url: '/installer/walk-test', page: 'walk-test', allow: 'install', title: '走测' },
  { url: '/installer/coverage', page: 'coverage', allow: 'install', title: '点位覆盖检查' },
  { url: '/installer/acceptance', page: 'acceptance', allow: 'install', title: '验收报告' },
  { url: '/installer/acceptance/:id', page: 'acceptance-print', allow: 'install', title: '验收报告' },
  { url: '/installer/config', page: 'config', allow: 'install', title: '配置导入导出' },
  { url: '/installer/plan', page: 'plan-edit', allow: 'install', title: '电子地图编辑' },
  { url: '/installer/discovery', page: 'discovery', allow: 'install', title: '设备发现' },
];

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export function shell(page: PageDef, siteName: string, lang: string): string {
  return `<!doctype html>
<html lang="${esc(lang)}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(page.title)} · ${esc(siteName)} · 守望</title>
<link rel="icon" href="/ui/icon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/ui/style.css">
<script type="module" src="/ui/main.js"></script>
</head>
<body data-page="${esc(page.page)}">
<noscript>守望面板需要启用 JavaScript。/ The Shouwang panel needs JavaScript.</noscript>
</body>
</html>
`;
}

const paramsFor = (url: string) => (url.includes(':id') ? z.object({ id: z.string().min(1).max(64) }) : undefined);

export function pageRoutes(o: { siteName: () => string; language: () => string }): RouteDef[] {
  return PAGES.map((p) => {
    const params = paramsFor(p.url);
    return route({
      method: 'GET',
      url: p.url,
      allow: p.allow,
      kind: 'page',
      summary: `page: ${p.title}`,
      schema: { querystring: emptyQuery.passthrough(), ...(params ? { params } : {}) },
      handler: async ({ reply, session }) => {
        if ((p.page === 'login' || p.page === 'setup') && session) return reply.redirect('/', 303);
        return reply
          .type('text/html; charset=utf-8')
          .header('cache-control', 'no-store')
          .send(shell(p, o.siteName(), o.language()));
      },
    });
  });
}
