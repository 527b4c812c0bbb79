/* Loads the strength estimator on first use (estimator.ts, a separate chunk), so only the forms
 * that choose a password pay for its dictionaries. */
type Estimator = typeof import('./estimator');

let loading: Promise<Estimator> | null = null;

export function loadEstimator(): Promise<Estimator> {
  loading ??= import('./estimator');
  return loading;
}
