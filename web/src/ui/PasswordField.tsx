/* A password input with a show/hide toggle and room for a strength line under it. Like Field:
 * the label names it; the hint, the strength line and the error describe it. */
import { forwardRef, useId, useState, type InputHTMLAttributes, type ReactNode } from 'react';
import { cn } from './cn';
import { inputClass } from './Field';

interface PasswordFieldProps extends Omit<InputHTMLAttributes<HTMLInputElement>, 'type'> {
  label: string;
  hint?: string;
  error?: string | null;
  /** The toggle's words ("Show", "Hide"): its state is also aria-pressed. */
  showText: string;
  hideText: string;
  /** Under the input, announced politely (the strength hint). */
  meter?: ReactNode;
}

export const PasswordField = forwardRef<HTMLInputElement, PasswordFieldProps>(function PasswordField(
  { label, hint, error, showText, hideText, meter, className, id, ...rest },
  ref,
) {
  const auto = useId();
  const fid = id ?? auto;
  const [shown, setShown] = useState(false);
  const describe =
    [hint ? `${fid}-hint` : '', meter ? `${fid}-meter` : '', error ? `${fid}-err` : ''].filter(Boolean).join(' ') || undefined;
  return (
    <div className={cn('space-y-1', className)}>
      <label htmlFor={fid} className="block text-sm font-medium text-slate-700 dark:text-slate-300">
        {label}
      </label>
      <div className="relative">
        <input
          ref={ref}
          id={fid}
          type={shown ? 'text' : 'password'}
          aria-describedby={describe}
          aria-invalid={error ? true : undefined}
          className={cn(inputClass, 'pr-16', error && 'border-red-500')}
          {...rest}
        />
        <button
          type="button"
          aria-controls={fid}
          aria-pressed={shown}
          onClick={() => setShown(!shown)}
          className="absolute inset-y-0 right-0 px-3 text-xs font-medium text-slate-500 hover:text-slate-800 dark:hover:text-slate-200"
        >
          {shown ? hideText : showText}
        </button>
      </div>
      {hint && (
        <p id={`${fid}-hint`} className="text-xs text-slate-500 dark:text-slate-400">
          {hint}
        </p>
      )}
      {meter && (
        <div id={`${fid}-meter`} aria-live="polite" className="text-xs">
          {meter}
        </div>
      )}
      {error && (
        <p id={`${fid}-err`} className="text-xs text-red-600 dark:text-red-400">
          {error}
        </p>
      )}
    </div>
  );
});
