// zod schemas of the error catalogue's wire types, for the RPC contract and the portal API.
import { z } from 'zod'
import { ERROR_CODES, type AppErrorData, type ErrorParams } from './errors'

export const errorCodeSchema = z.enum(ERROR_CODES)

export const errorParamsSchema: z.ZodType<ErrorParams> = z.record(
  z.string(),
  z.union([z.string(), z.number(), z.boolean(), z.null()]),
)

export const appErrorDataSchema = z.object({
  code: errorCodeSchema,
  params: errorParamsSchema.default({}),
}) satisfies z.ZodType<AppErrorData, unknown>
