/** A request's method and path with its ids replaced, so every site's and round's request finds one answer size. */
export function answerKey(method: string, path: string): string {
  const template = path
    .replace(/^\/v1\/federations\/[^/]+/, '/v1/federations/:fid')
    .replace(/^\/v1\/models\/[^/]+/, '/v1/models/:vid')
    .replace(/\/rounds\/\d+\//, '/rounds/:round/');
  return `${method} ${template}`;
}
