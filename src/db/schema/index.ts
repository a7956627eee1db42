export * from './audit.js';
export * from './break-glass.js';
export * from './clinics.js';
export * from './staff.js';
