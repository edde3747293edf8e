/**
 * Form fields that show the API's answer on the field it names: a problem document's `field`
 * (`expr.name`, `receivers[1].url`, `threshold`) is the field's path, its `detail` is shown under the
 * input, and the input gets `aria-invalid` and `aria-describedby` pointing at it.
 * @module
 */
import type { ComponentChildren } from 'preact';
import type { ApiError } from '../api.ts';
import './form-field.css';

/** The DOM id of the input of a field path within a form (`rule` + `receivers[1].url` → `rule-receivers-1-url`). */
export function fieldId(form: string, path: string): string {
  return `${form}-${path.replace(/[^A-Za-z0-9_]+/g, '-').replace(/-+$/, '')}`;
}

/**
 * The error of an API answer as it applies to one field: the detail when the problem names `path` (or a
 * member below it, when `below` is set: `labels.team` under `labels`).
 */
export function errorFor(err: ApiError | undefined, path: string, below = false): string | undefined {
  const field = err?.problem.field;
  if (!err || !field) return undefined;
  if (field === path || (below && (field.startsWith(`${path}.`) || field.startsWith(`${path}[`))))
    return detailOnField(err);
  return undefined;
}

/** Props of {@link Field}. */
export interface FieldProps {
  /** The form's id prefix. */
  form: string;
  /** The field's path in the body the API checks (`expr.name`). */
  path: string;
  label: string;
  /** The error to show under the input (see {@link errorFor}). */
  error?: string | undefined;
  /** A short help line under the input (units, limits). */
  hint?: ComponentChildren;
  /** The input; give it `id={fieldId(form, path)}` and spread {@link invalidProps}. */
  children: ComponentChildren;
}

/** The ARIA attributes of an input whose field may be in error. */
export function invalidProps(form: string, path: string, error: string | undefined, hasHint = false) {
  const id = fieldId(form, path);
  const describedBy = [error ? `${id}-err` : '', hasHint ? `${id}-hint` : ''].filter(Boolean).join(' ');
  return {
    id,
    name: path,
    'aria-invalid': error ? ('true' as const) : undefined,
    'aria-describedby': describedBy || undefined,
  };
}

/**
 * The API's detail as shown on the field it names: without the leading `path: ` (the field is the
 * context), e.g. `receivers[1].url: expected an http(s) URL…` → `expected an http(s) URL…`.
 */
export function detailOnField(err: ApiError): string {
  const d = err.problem.detail ?? err.message;
  const f = err.problem.field;
  return f && d.startsWith(`${f}: `) ? d.slice(f.length + 2) : d;
}

/** A labelled field with its hint and, after a refused submit, the API's error for it. */
export function Field(props: FieldProps) {
  const id = fieldId(props.form, props.path);
  return (
    <div class={`field${props.error ? ' field-invalid' : ''}`}>
      <label for={id}>{props.label}</label>
      {props.children}
      {props.hint ? (
        <small id={`${id}-hint`} class="muted">
          {props.hint}
        </small>
      ) : null}
      {props.error ? (
        <small id={`${id}-err`} class="field-error">
          {props.error}
        </small>
      ) : null}
    </div>
  );
}
