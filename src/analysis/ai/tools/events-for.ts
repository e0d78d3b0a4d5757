import { objectLabel, at } from '../../../domain/index.js';
import { ObjectInput, defineTool, namespaceOf } from './tool.js';

export const eventsFor = defineTool(
  'events_for',
  'Events recorded for one object, newest first.',
  ObjectInput,
  async (input, context) => {
    const namespace = input.kind === 'Node' ? 'default' : namespaceOf(context);
    const events = await context.cluster.list('Event', namespace, {
      fieldSelector: `involvedObject.kind=${input.kind},involvedObject.name=${input.name}`,
      limit: 100,
    });
    const value = events
      .map((event) => ({
        type: event.type,
        reason: event.reason,
        message: event.message,
        count: event.count,
        lastSeen: event.lastTimestamp ?? event.eventTime ?? at(event, 'metadata', 'creationTimestamp'),
      }))
      .sort((a, b) => String(b.lastSeen ?? '').localeCompare(String(a.lastSeen ?? '')))
      .slice(0, 30);
    return {
      value: { events: value },
      kind: 'event',
      object: objectLabel({
        kind: input.kind,
        namespace: input.kind === 'Node' ? undefined : namespace,
        name: input.name,
      }),
    };
  },
);
