/* Blocking, from the user's side: who I have blocked (the server's list, cached by React
 * Query) and the action. Across a block nothing passes either way (messages, receipts, typing,
 * presence); the server enforces it, the client only shows it and stops offering to send. */
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { getEngine } from '../engine/engine';

const KEY = ['blocked'];

export function useBlockedUsers() {
  return useQuery({ queryKey: KEY, queryFn: () => getEngine().api.blocked(), staleTime: 0 });
}

export function useIsBlocked(userId: string): boolean {
  return useBlockedUsers().data?.some((u) => u.id === userId) ?? false;
}

export function useSetBlocked() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: ({ userId, blocked }: { userId: string; blocked: boolean }) =>
      blocked ? getEngine().api.block(userId) : getEngine().api.unblock(userId),
    onSettled: () => qc.invalidateQueries({ queryKey: KEY }),
  });
}
