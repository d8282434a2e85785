# The handler: reads the invocation JSON (first argument), prints the result JSON.
handler() {
  jq -c '
    (.params.rise_limit // 8) as $limit | (.params.max_temp // 90) as $max |
    .reading.value as $v | (.windows.history.value // []) as $h |
    if ($h | length) < 10 then {decision: {score: 0, anomaly: false, label: "warming-up"}}
    else (($h | add) / ($h | length)) as $mean | ($v - $mean) as $rise |
      (($rise > $limit) or ($v > $max)) as $hot |
      {decision: {score: ([[($rise / $limit), ($v / $max)] | max / 2, 0] | max | [., 1] | min),
                  anomaly: $hot, label: (if $hot then "overheating" else "normal" end),
                  detail: "\($v) degC, \($rise) from the mean of \($h | length)"}}
    end' <<<"$1"
}
