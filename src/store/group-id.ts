/**
 * The spine of the domain: one consumer group of one event hub in one namespace, named as the blob paths
 * name it (`{namespace}/{eventHub}/{consumerGroup}/...`). Every group-shaped type extends it.
 */
export interface GroupId {
  namespace: string
  eventHub: string
  consumerGroup: string
}

/** Only the three names, in this order: the order every JSON document that carries them keeps. */
export function groupIdOf(group: GroupId): GroupId {
  return {namespace: group.namespace, eventHub: group.eventHub, consumerGroup: group.consumerGroup}
}

/** "namespace/eventHub/consumerGroup", as messages name a group. */
export const groupPath = (group: GroupId): string => `${group.namespace}/${group.eventHub}/${group.consumerGroup}`
