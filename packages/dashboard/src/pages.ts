/**
 * The pages of the dashboard, in the navigation's order. Each page is loaded on demand (its own chunk).
 * @module
 */
import type { ComponentType } from 'preact';

/** A page: its path prefix, its title and its module (loaded when first shown). */
export interface PageDef {
  path: string;
  title: string;
  load: () => Promise<{ default: ComponentType<{ path: string }> }>;
}

export const PAGES: PageDef[] = [
  { path: '/', title: 'Overview', load: () => import('./pages/overview.tsx') },
  { path: '/services', title: 'Services', load: () => import('./pages/services.tsx') },
  { path: '/traces', title: 'Traces', load: () => import('./pages/traces.tsx') },
  { path: '/resources', title: 'Resources', load: () => import('./pages/resources.tsx') },
  { path: '/database', title: 'Database', load: () => import('./pages/database.tsx') },
  { path: '/vitals', title: 'Web vitals', load: () => import('./pages/vitals.tsx') },
  { path: '/transactions', title: 'Transactions', load: () => import('./pages/transactions.tsx') },
  { path: '/caches', title: 'Caches', load: () => import('./pages/caches.tsx') },
  { path: '/alerts', title: 'Alerts', load: () => import('./pages/alerts.tsx') },
  { path: '/recommendations', title: 'Recommendations', load: () => import('./pages/recommendations.tsx') },
];
