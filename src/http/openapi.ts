/** Route-level OpenAPI security: an API key header, or a bearer access token or key. */
export const SECURED: Record<string, string[]>[] = [{ apiKey: [] }, { bearerAuth: [] }];

export const SECURITY_SCHEMES = {
  apiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key' },
  bearerAuth: {
    type: 'http',
    scheme: 'bearer',
    description: 'An access token from /api/v1/auth/login, or an API key',
  },
} as const;
