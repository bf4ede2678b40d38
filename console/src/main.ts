import 'uplot/dist/uPlot.min.css';
import './style.css';
import { api } from './api.ts';
import { fill, h } from './dom.ts';
import { mountCatalog } from './pages/catalog.ts';
import { mountDashboard, mountDashboards, mountHome } from './pages/dashboards.ts';
import { mountJob } from './pages/job.ts';
import { mountJobs } from './pages/jobs.ts';
import { mountSql } from './pages/sql.ts';
import { mountView } from './pages/view.ts';
import { mountViews } from './pages/views.ts';
import { parseRoute } from './router.ts';
import type { PageContext, Route } from './router.ts';
import { Scope } from './scope.ts';

const NAV: readonly { readonly href: string; readonly label: string; readonly section: Route['page'][] }[] = [
  { href: '/dashboards', label: 'Dashboards', section: ['dashboards', 'dashboard'] },
  { href: '/sql', label: 'SQL', section: ['sql'] },
  { href: '/jobs', label: 'Jobs', section: ['jobs', 'job'] },
  { href: '/views', label: 'Views', section: ['views', 'view'] },
  { href: '/catalog', label: 'Catalog', section: ['catalog'] },
];

const nav = h('nav', { id: 'nav', class: 'nav' }, NAV.map((n) => h('a', { href: n.href }, n.label)));
const menu = h('button', { class: 'menu-button', 'aria-label': 'Menu', 'aria-expanded': 'false', 'aria-controls': 'nav' }, '☰');
const health = h('span', { class: 'health', title: 'server' }, '');
const heading = h('h1', { class: 'page-title' });
const main = h('main', { id: 'main' });
document.getElementById('app')!.append(
  h('header', { class: 'topbar' }, h('a', { href: '/', class: 'brand' }, 'Weir'), menu, nav, health),
  h('div', { class: 'content' }, heading, main),
);

menu.addEventListener('click', () => {
  const open = !document.body.classList.contains('nav-open');
  document.body.classList.toggle('nav-open', open);
  menu.setAttribute('aria-expanded', String(open));
});

let current: Scope | undefined;

function render(): void {
  current?.dispose();
  const scope = new Scope();
  current = scope;
  document.body.classList.remove('nav-open');
  menu.setAttribute('aria-expanded', 'false');
  const route = parseRoute(location.pathname);
  for (const a of nav.querySelectorAll('a')) {
    const item = NAV.find((n) => n.href === a.getAttribute('href'));
    a.classList.toggle('active', !!route && !!item?.section.includes(route.page));
  }
  const ctx: PageContext = {
    scope,
    navigate,
    title: (t) => {
      heading.textContent = t;
      document.title = `${t} · Weir`;
    },
  };
  fill(main);
  heading.textContent = '';
  if (!route) {
    ctx.title('Not found');
    fill(main, h('p', {}, 'No page here. ', h('a', { href: '/' }, 'Go to the start page.')));
    return;
  }
  mount(route, main, ctx);
}

function mount(route: Route, root: HTMLElement, ctx: PageContext): void {
  switch (route.page) {
    case 'home':
      return mountHome(root, ctx);
    case 'sql':
      return mountSql(root, ctx);
    case 'jobs':
      return mountJobs(root, ctx);
    case 'job':
      return mountJob(root, ctx, route.id);
    case 'catalog':
      return mountCatalog(root, ctx);
    case 'views':
      return mountViews(root, ctx);
    case 'view':
      return mountView(root, ctx, route.name);
    case 'dashboards':
      return mountDashboards(root, ctx);
    case 'dashboard':
      return mountDashboard(root, ctx, route.name);
    default: {
      const never: never = route;
      throw new Error(`unknown route ${JSON.stringify(never)}`);
    }
  }
}

export function navigate(path: string): void {
  if (path !== location.pathname + location.search) history.pushState(null, '', path);
  render();
  window.scrollTo(0, 0);
}

// Same-origin links change the page without reloading it.
document.addEventListener('click', (ev) => {
  if (ev.defaultPrevented || ev.button !== 0 || ev.metaKey || ev.ctrlKey || ev.shiftKey || ev.altKey) return;
  const a = (ev.target as Element | null)?.closest('a');
  if (!a || a.target || a.hasAttribute('download')) return;
  const href = a.getAttribute('href');
  if (!href || !href.startsWith('/') || href.startsWith('/v1/') || href === '/health') return;
  ev.preventDefault();
  navigate(href);
});
window.addEventListener('popstate', render);

async function checkHealth(): Promise<void> {
  try {
    const hl = await api.health();
    health.className = `health ${hl.broker.reachable ? 'ok' : 'warn'}`;
    health.title = hl.broker.reachable ? `server up, broker ${hl.broker.brokers} reachable` : `broker unreachable: ${hl.broker.error ?? ''}`;
    health.textContent = hl.broker.reachable ? 'connected' : 'broker down';
  } catch {
    health.className = 'health down';
    health.title = 'the server does not answer';
    health.textContent = 'offline';
  }
}
void checkHealth();
setInterval(checkHealth, 15_000);

render();
