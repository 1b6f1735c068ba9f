// In-process event bus: the supervisor publishes job events here; each face forwards them
// (WebSocket frames, Electron IPC, CLI progress bars). Payloads are the contract's event types.
import type { EventPayload, EventTopic } from '../../common/api/contract.ts';

export type AnyEvent = { [T in EventTopic]: { topic: T; payload: EventPayload<T> } }[EventTopic];
export type EventListener = (event: AnyEvent) => void;

export class EventBus {
  private readonly listeners = new Set<EventListener>();

  publish<T extends EventTopic>(topic: T, payload: EventPayload<T>): void {
    const event = { topic, payload } as AnyEvent;
    for (const listener of [...this.listeners]) {
      // A failing listener (a closed socket, a bug in one face) must not stop the others or the publisher.
      try {
        listener(event);
      } catch (err) {
        console.error(`event listener failed on ${topic}:`, err);
      }
    }
  }

  /** Listens to every topic; returns the unsubscribe function. */
  subscribe(listener: EventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Listens to one topic. */
  on<T extends EventTopic>(topic: T, listener: (payload: EventPayload<T>) => void): () => void {
    return this.subscribe((e) => {
      if (e.topic === topic) listener(e.payload as EventPayload<T>);
    });
  }
}
