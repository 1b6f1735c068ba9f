// "What you will ship": the GGUF quantization to measure or chat with beside the tuned model (none by default),
// shared by Evaluate's start form and Chat's model card.
import { ShipQuant } from '../../../common/api/chat.ts';
import { t } from '../i18n/t.ts';

export function ShipQuantSelect({
  id,
  label,
  value,
  onChange,
  optionLabel,
}: {
  id: string;
  label: string;
  value: ShipQuant | '';
  onChange: (value: ShipQuant | '') => void;
  /** An option's text for a quantization shown in capitals (Q4_K_M). */
  optionLabel: (quant: string) => string;
}) {
  return (
    <div className="field">
      <label className="field-label" htmlFor={id}>
        {label}
      </label>
      <select id={id} value={value} onChange={(event) => onChange(event.target.value as ShipQuant | '')}>
        <option value="">{t('evalStart.shipNone')}</option>
        {ShipQuant.options.map((quant) => (
          <option key={quant} value={quant}>
            {optionLabel(quant.toUpperCase())}
          </option>
        ))}
      </select>
      <span className="field-hint">{t('evalStart.shipHint')}</span>
    </div>
  );
}
