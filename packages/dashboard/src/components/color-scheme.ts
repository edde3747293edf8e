/**
 * The colour scheme the page is drawn in (`prefers-color-scheme`), re-rendering the caller when the system
 * switches: canvas charts read the theme's colours when they are drawn, so they are drawn again.
 * @module
 */
import { useEffect, useState } from 'preact/hooks';

const query = () => window.matchMedia?.('(prefers-color-scheme: dark)');

/** `dark` or `light`, following the system's setting. */
export function useColorScheme(): 'dark' | 'light' {
  const [dark, setDark] = useState(() => query()?.matches ?? false);
  useEffect(() => {
    const q = query();
    if (!q) return;
    const update = () => setDark(q.matches);
    q.addEventListener('change', update);
    return () => q.removeEventListener('change', update);
  }, []);
  return dark ? 'dark' : 'light';
}
