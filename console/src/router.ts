// Client-side routes over the History API; the server answers index.html for each of these paths.
import type { Scope } from './scope.ts';

export type Route =
  | { readonly page: 'home' }
  | { readonly page: 'sql' }
  | { readonly page: 'jobs' }
  | { readonly page: 'job'; readonly id: string }
  | { readonly page: 'catalog' }
  | { readonly page: 'views' }
  | { readonly page: 'view'; readonly name: string }
  | { readonly page: 'dashboards' }
  | { readonly page: 'dashboard'; readonly name: string };

export function parseRoute(pathname: string): Route | undefined {
  const parts = pathname.split('/').filter(Boolean).map(decodeURIComponent);
  const [a, b] = parts;
  if (parts.length === 0) return { page: 'home' };
  if (parts.length === 1) {
    switch (a) {
      case 'sql':
        return { page: 'sql' };
      case 'jobs':
        return { page: 'jobs' };
      case 'catalog':
        return { page: 'catalog' };
      case 'views':
        return { page: 'views' };
      case 'dashboards':
        return { page: 'dashboards' };
      default:
        return undefined;
    }
  }
  if (parts.length === 2 && b) {
    if (a === 'jobs') return { page: 'job', id: b };
    if (a === 'views') return { page: 'view', name: b };
    if (a === 'dashboards') return { page: 'dashboard', name: b };
  }
  return undefined;
}

export interface PageContext {
  readonly scope: Scope;
  readonly navigate: (path: string) => void;
  /** Sets the document title (and the page heading's text) for this page. */
  readonly title: (t: string) => void;
}

export const paths = {
  job: (id: string) => `/jobs/${encodeURIComponent(id)}`,
  view: (name: string) => `/views/${encodeURIComponent(name)}`,
  dashboard: (name: string) => `/dashboards/${encodeURIComponent(name)}`,
};
