/** One on/off setting with its label and an optional hint. */
export function Toggle(props: { label: string; hint?: string; checked: boolean; onChange: (v: boolean) => void }) {
  return (
    <label class="setting">
      <div>
        <div class="setting-label">{props.label}</div>
        {props.hint && <div class="setting-hint muted">{props.hint}</div>}
      </div>
      <input
        type="checkbox"
        class="switch"
        checked={props.checked}
        onChange={(e) => props.onChange(e.currentTarget.checked)}
      />
    </label>
  );
}
