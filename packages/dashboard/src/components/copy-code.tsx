/**
 * A block of code to paste elsewhere (a script tag, a configuration line, a statement to run) with a
 * button that copies it. The clipboard API needs a secure context (https or localhost); elsewhere the text
 * is copied through a selected text area, and when that fails too the text is selected for the person to
 * copy by hand.
 * @module
 */
import { useRef, useState } from 'preact/hooks';
import './copy-code.css';

/** Copies `text`; `true` when the browser says it did. */
async function copyText(text: string): Promise<boolean> {
  try {
    if (navigator.clipboard && window.isSecureContext) {
      await navigator.clipboard.writeText(text);
      return true;
    }
  } catch {
    // fall through to the text-area way
  }
  const area = document.createElement('textarea');
  area.value = text;
  area.setAttribute('readonly', '');
  area.className = 'copy-code-offscreen';
  document.body.append(area);
  area.select();
  let ok = false;
  try {
    ok = document.execCommand('copy');
  } catch {
    ok = false;
  }
  area.remove();
  return ok;
}

/** Code with a Copy button; `label` names what is copied ("the script tag"). */
export function CopyCode(props: { code: string; label: string; wrap?: boolean }) {
  const [state, setState] = useState<'idle' | 'copied' | 'failed'>('idle');
  const pre = useRef<HTMLPreElement>(null);
  const copy = async () => {
    const ok = await copyText(props.code);
    setState(ok ? 'copied' : 'failed');
    if (!ok && pre.current) {
      const range = document.createRange();
      range.selectNodeContents(pre.current);
      const sel = window.getSelection();
      sel?.removeAllRanges();
      sel?.addRange(range);
    }
    setTimeout(() => setState('idle'), 2500);
  };
  return (
    <div class="copy-code">
      <pre ref={pre} class={props.wrap ? 'wrap' : undefined}>
        <code>{props.code}</code>
      </pre>
      <div class="copy-code-bar">
        <button type="button" onClick={copy} aria-label={`Copy ${props.label}`}>
          {state === 'copied' ? 'Copied ✓' : 'Copy'}
        </button>
        <span role="status" class="muted small">
          {state === 'failed' ? 'Could not copy: the text is selected, press Ctrl+C (⌘C).' : ''}
        </span>
      </div>
    </div>
  );
}
