/* Line icons for calls (24×24, currentColor), drawn here so that they show the same on every
 * system (an emoji font is not everywhere). Decorative: the button carries the name. */
import type { ReactNode } from 'react';

function Icon({ children, className = 'h-6 w-6' }: { children: ReactNode; className?: string }) {
  return (
    <svg
      aria-hidden="true"
      viewBox="0 0 24 24"
      className={className}
      fill="none"
      stroke="currentColor"
      strokeWidth="2"
      strokeLinecap="round"
      strokeLinejoin="round"
    >
      {children}
    </svg>
  );
}

const PHONE =
  'M22 16.9v3a2 2 0 0 1-2.2 2 19.8 19.8 0 0 1-8.6-3.1 19.5 19.5 0 0 1-6-6A19.8 19.8 0 0 1 2.1 4.2 2 2 0 0 1 4.1 2h3a2 2 0 0 1 2 1.7c.1 1 .4 1.9.7 2.8a2 2 0 0 1-.5 2.1L8 9.9a16 16 0 0 0 6 6l1.3-1.3a2 2 0 0 1 2.1-.4c.9.3 1.8.6 2.8.7a2 2 0 0 1 1.7 2z';

export const PhoneIcon = ({ className }: { className?: string }) => (
  <Icon className={className}>
    <path d={PHONE} />
  </Icon>
);
export const HangUpIcon = ({ className }: { className?: string }) => (
  <Icon className={className}>
    <path d={PHONE} transform="rotate(135 12 12)" />
  </Icon>
);
export const VideoIcon = ({ className }: { className?: string }) => (
  <Icon className={className}>
    <path d="M23 7l-7 5 7 5V7z" />
    <rect x="1" y="5" width="15" height="14" rx="2" />
  </Icon>
);
export const MicIcon = ({ off }: { off?: boolean }) => (
  <Icon>
    <rect x="9" y="2" width="6" height="12" rx="3" />
    <path d="M19 10v1a7 7 0 0 1-14 0v-1M12 18v4M8 22h8" />
    {off && <path d="M2 2l20 20" />}
  </Icon>
);
export const CameraIcon = ({ off }: { off?: boolean }) => (
  <Icon>
    <path d="M23 7l-7 5 7 5V7z" />
    <rect x="1" y="5" width="15" height="14" rx="2" />
    {off && <path d="M2 2l20 20" />}
  </Icon>
);
export const SwitchIcon = () => (
  <Icon>
    <path d="M1 4v6h6M23 20v-6h-6" />
    <path d="M20.5 9A9 9 0 0 0 5.6 5.6L1 10m22 4l-4.6 4.4A9 9 0 0 1 3.5 15" />
  </Icon>
);
