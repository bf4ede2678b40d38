// A plain textarea made into a SQL editor: a line-number gutter and an overlay that marks the line and
// column of an error. Textarea keeps native editing, undo, IME and accessibility.
import { h } from './dom.ts';

export interface SqlEditor {
  readonly element: HTMLElement;
  readonly textarea: HTMLTextAreaElement;
  value(): string;
  setValue(sql: string): void;
  /** Marks line/column (1-based) as the error position; undefined clears it. */
  markError(pos: { line: number; column: number } | undefined): void;
}

export function sqlEditor(opts: { value?: string; rows?: number; onRun?: () => void; label: string }): SqlEditor {
  const gutter = h('div', { class: 'editor-gutter', 'aria-hidden': 'true' });
  const band = h('div', { class: 'editor-error-line', hidden: true });
  const caret = h('div', { class: 'editor-error-caret', hidden: true });
  const overlay = h('div', { class: 'editor-overlay', 'aria-hidden': 'true' }, band, caret);
  const textarea = h('textarea', {
    class: 'editor-text',
    spellcheck: 'false',
    autocapitalize: 'off',
    autocomplete: 'off',
    wrap: 'off',
    rows: opts.rows ?? 10,
    'aria-label': opts.label,
  });
  textarea.value = opts.value ?? '';
  const element = h('div', { class: 'editor' }, gutter, h('div', { class: 'editor-body' }, overlay, textarea));
  let error: { line: number; column: number } | undefined;

  const renderGutter = (): void => {
    const lines = textarea.value.split('\n').length;
    if (gutter.childElementCount !== lines) {
      gutter.replaceChildren(...Array.from({ length: lines }, (_, i) => h('div', { 'data-line': i + 1 }, i + 1)));
    }
    for (const el of gutter.children) el.classList.toggle('error', Number((el as HTMLElement).dataset['line']) === error?.line);
  };
  const sync = (): void => {
    // Gutter and overlay follow the textarea's scroll position.
    gutter.style.transform = `translateY(${-textarea.scrollTop}px)`;
    overlay.style.transform = `translate(${-textarea.scrollLeft}px, ${-textarea.scrollTop}px)`;
  };
  const place = (): void => {
    band.hidden = caret.hidden = !error;
    if (!error) return;
    band.style.top = `calc(var(--editor-pad) + ${error.line - 1} * var(--editor-lh))`;
    band.dataset['line'] = String(error.line);
    caret.style.top = band.style.top;
    caret.style.left = `calc(var(--editor-pad) + ${error.column - 1}ch)`;
  };

  textarea.addEventListener('input', () => {
    if (error) {
      // The marked position no longer means anything once the text changes.
      error = undefined;
      place();
    }
    renderGutter();
  });
  textarea.addEventListener('scroll', sync);
  textarea.addEventListener('keydown', (ev) => {
    if (ev.key === 'Enter' && (ev.ctrlKey || ev.metaKey)) {
      ev.preventDefault();
      opts.onRun?.();
    } else if (ev.key === 'Tab' && !ev.shiftKey) {
      ev.preventDefault();
      textarea.setRangeText('  ', textarea.selectionStart, textarea.selectionEnd, 'end');
      renderGutter();
    }
  });
  renderGutter();

  return {
    element,
    textarea,
    value: () => textarea.value,
    setValue(sql) {
      textarea.value = sql;
      error = undefined;
      place();
      renderGutter();
      sync();
    },
    markError(pos) {
      error = pos;
      place();
      renderGutter();
      if (pos) {
        // Bring the line into view.
        const lh = parseFloat(getComputedStyle(textarea).lineHeight) || 20;
        const y = (pos.line - 1) * lh;
        if (y < textarea.scrollTop || y > textarea.scrollTop + textarea.clientHeight - lh) textarea.scrollTop = Math.max(0, y - lh * 2);
        sync();
      }
    },
  };
}
