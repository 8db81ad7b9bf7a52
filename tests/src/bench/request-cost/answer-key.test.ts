import { answerKey } from './answer-key';

describe('answerKey', () => {
  test("every site's and round's request of one route has one key", () => {
    expect(answerKey('GET', '/v1/federations/fed-1/rounds/current')).toBe('GET /v1/federations/:fid/rounds/current');
    expect(answerKey('GET', '/v1/models/fed-1.v0/download')).toBe('GET /v1/models/:vid/download');
    expect(answerKey('POST', '/v1/federations/fed-2/rounds/12/updates')).toBe(
      'POST /v1/federations/:fid/rounds/:round/updates',
    );
  });
});
