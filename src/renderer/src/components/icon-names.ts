// The names of the studio's icons (drawn in Icon.tsx). A plain list so non-React modules can name icons.
export const ICON_NAMES = [
  'folder',
  'spark',
  'table',
  'pulse',
  'gauge',
  'chat',
  'layers',
  'export',
  'settings',
  'sun',
  'moon',
  'alert',
  'plus',
  'pencil',
  'trash',
  'check',
  'close',
] as const;

export type IconName = (typeof ICON_NAMES)[number];
