// The pump bearing rule as an ordinary Node.js Lambda handler: the event is sie's invocation
// (reading, windows, params), the result its decision. Nothing here knows about sie.
export const handler = async (event) => {
  const limit = event.params?.rise_limit ?? 8;
  const max = event.params?.max_temp ?? 90;
  const value = event.reading.value;
  const history = event.windows?.history?.value ?? [];
  if (history.length < 10) {
    return { decision: { score: 0, anomaly: false, label: 'warming-up' } };
  }
  const mean = history.reduce((sum, v) => sum + v, 0) / history.length;
  const rise = value - mean;
  const hot = rise > limit || value > max;
  const score = Math.min(Math.max(Math.max(rise / limit, value / max) / 2, 0), 1);
  return {
    decision: {
      score,
      anomaly: hot,
      label: hot ? 'overheating' : 'normal',
      detail: `${value} degC, ${rise} from the mean of ${history.length}`,
    },
  };
};
