export function DateSeparator({ label }: { label: string }) {
  return (
    <div className="my-3 flex items-center gap-3 text-xs text-slate-500 dark:text-slate-400" role="separator" aria-label={label}>
      <span className="h-px flex-1 bg-slate-200 dark:bg-slate-800" />
      <span>{label}</span>
      <span className="h-px flex-1 bg-slate-200 dark:bg-slate-800" />
    </div>
  );
}
