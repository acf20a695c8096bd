// The commands of the demo's order book: one schema each (the same zod the config uses). Shared by
// the command worker (orders.mjs) and whoever appends (examples/demo.ts).
import * as z from 'zod';
import { CommandRegistry, defineCommand } from 'hsu/messaging';

export const PlaceOrder = defineCommand('order/place', z.object({ item: z.string().min(1), qty: z.number().int().positive() }));
export const commands = CommandRegistry.of(PlaceOrder);
