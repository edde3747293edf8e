export type { AlertEvent, AlertStatus, DeliveryOutcome, Silence, ValueSource } from './engine.ts';
export { AlertEngine } from './engine.ts';
export type { AlertNotice, Delivery, Receiver } from './notifiers.ts';
export { alertmanagerPayload, deliver, fingerprint, pagerdutyPayload, slackPayload } from './notifiers.ts';
export type { AlertExpression, AlertRule } from './rules.ts';
export { defaultRules, parseRule, parseRulesFile, ruleFromInput } from './rules.ts';
export type { AlertState, Condition, Transition } from './state-machine.ts';
export { step } from './state-machine.ts';
export { storeValueSource } from './value-source.ts';
