/**
 * The dashboard's entry: renders the app, and intercepts clicks on same-origin links so they navigate
 * without a reload.
 * @module
 */
import { render } from 'preact';
import { App } from './app.tsx';
import { navigate } from './router.ts';
import './styles.css';

document.addEventListener('click', (e) => {
  if (e.defaultPrevented || e.button !== 0 || e.ctrlKey || e.metaKey || e.shiftKey || e.altKey) return;
  const a = (e.target as Element).closest?.('a[href]') as HTMLAnchorElement | null;
  if (!a || a.target || a.origin !== window.location.origin) return;
  // An anchor on this page (the skip link): move focus there, keep the URL.
  if (a.hash && a.pathname === window.location.pathname && a.search === window.location.search) {
    e.preventDefault();
    const target = document.getElementById(a.hash.slice(1));
    target?.focus();
    target?.scrollIntoView();
    return;
  }
  if (/^\/(api|docs|v1|rum\.js)/.test(a.pathname)) return;
  e.preventDefault();
  navigate(a.pathname + a.search);
  if (a.hash === '') window.scrollTo(0, 0);
});

render(<App />, document.getElementById('app')!);
