/* Trusted Types: sottod's CSP requires them for script sinks. The app's only script URLs are
 * its own worker and service worker, same-origin; this policy lets through nothing else. */

interface ScriptUrlPolicy {
  createScriptURL(url: string): string;
}
interface TrustedTypesLike {
  createPolicy(name: string, rules: { createScriptURL: (u: string) => string }): ScriptUrlPolicy;
}

let policy: ScriptUrlPolicy | null | undefined;

function sameOrigin(u: string): string {
  const url = new URL(u, location.href);
  if (url.origin !== location.origin) throw new TypeError('refusing a cross-origin script URL');
  return url.href;
}

/** A same-origin script URL, typed for a Trusted Types sink when the browser has them. */
export function scriptURL(u: string | URL): string {
  if (policy === undefined) {
    const tt = (globalThis as { trustedTypes?: TrustedTypesLike }).trustedTypes;
    policy = tt ? tt.createPolicy('sotto-script-url', { createScriptURL: sameOrigin }) : null;
  }
  return policy ? policy.createScriptURL(String(u)) : sameOrigin(String(u));
}
