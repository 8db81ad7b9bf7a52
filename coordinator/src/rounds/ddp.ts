import {
  TwinfedError,
  ddpMeanNoiseStd,
  decodeDdpSum,
  decodeRing64,
  planDdpParameters,
  type Plan,
  type Ring64,
} from '@twinfed/shared';
import type { MeanDelta } from '../strategies';

/**
 * The mean delta of a distributed-DP round from its unmasked ring sum (shared/dp/ddp-codec): the sum of the
 * survivors' clipped, scaled, noised integer vectors, divided by 2^bits and by the sites the round *selected* (fixed
 * denominator, as central DP). Only numbers that are functions of the plan and of who took part go into the metrics
 * (`clipNorm`, `dpNoiseStd`: the std of the noise in this mean, `sites`, `failures`); nothing per site. The strategy's
 * server step (serverLr, FedAdam's moments …) then runs on this noisy mean exactly as after central DP.
 */
export function ddpMean(o: {
  plan: Plan;
  sum: Ring64;
  selectedSites: number;
  survivors: readonly string[];
  threshold: number;
}): MeanDelta {
  const params = planDdpParameters(o.plan);
  if (!params) throw new TwinfedError('INTERNAL', 'ddpMean needs a plan with secure aggregation and privacy.dp.');
  const delta = decodeDdpSum({ sum: decodeRing64(o.sum, 0), params, selectedSites: o.selectedSites });
  const metrics = {
    clipNorm: params.clip,
    dpNoiseStd: ddpMeanNoiseStd(params, {
      survivors: o.survivors.length,
      threshold: o.threshold,
      selectedSites: o.selectedSites,
    }),
    sites: o.survivors.length,
    failures: o.selectedSites - o.survivors.length,
    secureAggregation: 1,
  };
  return { delta, metrics, contributors: [...o.survivors] };
}
