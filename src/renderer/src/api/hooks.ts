// The data-fetching pattern every page follows: one call → loading | error | ready, with a reload, and
// event subscriptions tied to a component's lifetime. Pages render the three states with <QueryView>.
import { useCallback, useEffect, useRef, useState } from 'react';
import type { EventPayload, EventTopic, MethodInput, MethodName, MethodOutput } from '../../../common/api/contract.ts';
import { useStudio } from '../state/studio.tsx';
import { toStudioApiError, type StudioApiError } from './client.ts';

export type QueryState<T> = { status: 'loading' } | { status: 'error'; error: StudioApiError } | { status: 'ready'; data: T };

export interface Query<T> {
  state: QueryState<T>;
  /** Calls again; the current data stays on screen until the answer arrives. */
  reload(): void;
}

/**
 * Calls `method` with `input` when the component mounts and whenever the input's JSON changes. Answers to
 * superseded calls are dropped, so a slow old answer never overwrites a newer one.
 */
export function useQuery<M extends MethodName>(method: M, input: MethodInput<M>): Query<MethodOutput<M>> {
  const client = useStudio();
  const [state, setState] = useState<QueryState<MethodOutput<M>>>({ status: 'loading' });
  const latest = useRef(0);
  const inputKey = JSON.stringify(input);

  const run = useCallback(() => {
    const request = ++latest.current;
    setState((previous) => (previous.status === 'ready' ? previous : { status: 'loading' }));
    client.invoke(method, JSON.parse(inputKey) as MethodInput<M>).then(
      (data) => {
        if (request === latest.current) setState({ status: 'ready', data });
      },
      (error: unknown) => {
        if (request === latest.current) setState({ status: 'error', error: toStudioApiError(error) });
      },
    );
  }, [client, method, inputKey]);

  useEffect(() => {
    run();
    return () => {
      latest.current += 1; // unmounted or superseded: ignore the pending answer
    };
  }, [run]);

  return { state, reload: run };
}

/** Listens to an event topic while the component is mounted; the latest listener is always used. */
export function useEvent<T extends EventTopic>(topic: T, listener: (payload: EventPayload<T>) => void): void {
  const client = useStudio();
  const current = useRef(listener);
  current.current = listener;
  useEffect(() => client.subscribe(topic, (payload) => current.current(payload)), [client, topic]);
}
