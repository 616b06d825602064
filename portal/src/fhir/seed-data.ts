// Reference tables of the demo seed (seed.ts): МКБ-10 diagnoses with their Russian names and the
// drugs (by international name, МНН) prescribed for them, vital signs with LOINC and UCUM codes,
// medical positions, document kinds. Kept apart so the generator reads as logic.

export interface Diagnosis {
  code: string
  display: string
  /** Chronic conditions stay active and get long-term prescriptions. */
  chronic: boolean
  /** Typical of adults only: not given to younger patients. */
  minAge: number
  /** Raises the body temperature measured at the visit. */
  fever?: boolean
  /** Raises blood pressure. */
  hypertension?: boolean
  drugs: readonly Drug[]
}

export interface Drug {
  /** International name (МНН), form and dose, as medicationCodeableConcept.text. */
  name: string
  dosage: string
}

const paracetamol: Drug = { name: 'Парацетамол, таблетки 500 мг', dosage: 'По 1 таблетке при температуре выше 38,5 °C, не чаще 4 раз в сутки, до 3 дней' }
const ibuprofen: Drug = { name: 'Ибупрофен, таблетки 200 мг', dosage: 'По 1 таблетке 3 раза в день после еды, 5 дней' }
const amoxicillin: Drug = { name: 'Амоксициллин, капсулы 500 мг', dosage: 'По 1 капсуле 3 раза в день, 7 дней' }
const amlodipine: Drug = { name: 'Амлодипин, таблетки 5 мг', dosage: 'По 1 таблетке 1 раз в день утром, длительно' }
const lisinopril: Drug = { name: 'Лизиноприл, таблетки 10 мг', dosage: 'По 1 таблетке 1 раз в день, длительно' }
const losartan: Drug = { name: 'Лозартан, таблетки 50 мг', dosage: 'По 1 таблетке 1 раз в день, длительно' }
const indapamide: Drug = { name: 'Индапамид, таблетки с пролонгированным высвобождением 1,5 мг', dosage: 'По 1 таблетке утром, длительно' }
const atorvastatin: Drug = { name: 'Аторвастатин, таблетки 20 мг', dosage: 'По 1 таблетке 1 раз в день вечером, длительно' }
const rosuvastatin: Drug = { name: 'Розувастатин, таблетки 10 мг', dosage: 'По 1 таблетке 1 раз в день, длительно' }
const bisoprolol: Drug = { name: 'Бисопролол, таблетки 5 мг', dosage: 'По 1 таблетке утром, длительно' }
const aspirin: Drug = { name: 'Ацетилсалициловая кислота, таблетки кишечнорастворимые 100 мг', dosage: 'По 1 таблетке 1 раз в день после еды, длительно' }
const metformin: Drug = { name: 'Метформин, таблетки 1000 мг', dosage: 'По 1 таблетке 2 раза в день во время еды, длительно' }
const gliclazide: Drug = { name: 'Гликлазид, таблетки с модифицированным высвобождением 60 мг', dosage: 'По 1 таблетке утром во время завтрака, длительно' }
const levothyroxine: Drug = { name: 'Левотироксин натрия, таблетки 50 мкг', dosage: 'По 1 таблетке утром натощак за 30 минут до еды, длительно' }
const omeprazole: Drug = { name: 'Омепразол, капсулы 20 мг', dosage: 'По 1 капсуле 2 раза в день за 30 минут до еды, 14 дней' }
const mebeverine: Drug = { name: 'Мебеверин, капсулы с пролонгированным высвобождением 200 мг', dosage: 'По 1 капсуле 2 раза в день за 20 минут до еды, 4 недели' }
const meloxicam: Drug = { name: 'Мелоксикам, таблетки 7,5 мг', dosage: 'По 1 таблетке 1 раз в день после еды, 7 дней' }
const diclofenacGel: Drug = { name: 'Диклофенак, гель для наружного применения 1 %', dosage: 'Наносить на область боли 3 раза в день, 10 дней' }
const salbutamol: Drug = { name: 'Сальбутамол, аэрозоль для ингаляций 100 мкг/доза', dosage: 'По 1–2 вдоха при приступе удушья, не более 8 вдохов в сутки' }
const budesonide: Drug = { name: 'Будесонид, порошок для ингаляций 200 мкг/доза', dosage: 'По 1 вдоху 2 раза в день, длительно' }
const tiotropium: Drug = { name: 'Тиотропия бромид, раствор для ингаляций 2,5 мкг/доза', dosage: 'По 2 вдоха 1 раз в день, длительно' }
const ambroxol: Drug = { name: 'Амброксол, таблетки 30 мг', dosage: 'По 1 таблетке 3 раза в день, 5 дней' }
const fosfomycin: Drug = { name: 'Фосфомицин, гранулы для приготовления раствора 3 г', dosage: 'Однократно, растворив в 1/3 стакана воды, вечером перед сном' }
const nitrofurantoin: Drug = { name: 'Нитрофурантоин, таблетки 100 мг', dosage: 'По 1 таблетке 2 раза в день, 5 дней' }
const tobramycin: Drug = { name: 'Тобрамицин, капли глазные 0,3 %', dosage: 'По 1 капле в каждый глаз 4 раза в день, 7 дней' }
const mometasone: Drug = { name: 'Мометазон, крем для наружного применения 0,1 %', dosage: 'Тонким слоем на поражённые участки 1 раз в день, 7 дней' }
const sumatriptan: Drug = { name: 'Суматриптан, таблетки 50 мг', dosage: 'По 1 таблетке при приступе мигрени, не более 2 таблеток в сутки' }
const sertraline: Drug = { name: 'Сертралин, таблетки 50 мг', dosage: 'По 1 таблетке 1 раз в день утром, 6 месяцев' }
const ironSulfate: Drug = { name: 'Железа сульфат + аскорбиновая кислота, таблетки 100 мг + 60 мг', dosage: 'По 1 таблетке 2 раза в день до еды, 3 месяца' }

/** Common outpatient diagnoses (МКБ-10, Russian edition names). */
export const DIAGNOSES: readonly Diagnosis[] = [
  { code: 'J06.9', display: 'Острая инфекция верхних дыхательных путей неуточнённая', chronic: false, minAge: 0, fever: true, drugs: [paracetamol, ibuprofen] },
  { code: 'J02.9', display: 'Острый фарингит неуточнённый', chronic: false, minAge: 0, fever: true, drugs: [paracetamol] },
  { code: 'J03.9', display: 'Острый тонзиллит неуточнённый', chronic: false, minAge: 0, fever: true, drugs: [amoxicillin, paracetamol] },
  { code: 'J20.9', display: 'Острый бронхит неуточнённый', chronic: false, minAge: 0, fever: true, drugs: [ambroxol] },
  { code: 'B34.9', display: 'Вирусная инфекция неуточнённая', chronic: false, minAge: 0, fever: true, drugs: [paracetamol] },
  { code: 'H66.9', display: 'Средний отит неуточнённый', chronic: false, minAge: 0, fever: true, drugs: [amoxicillin] },
  { code: 'H10.9', display: 'Конъюнктивит неуточнённый', chronic: false, minAge: 0, drugs: [tobramycin] },
  { code: 'L30.9', display: 'Дерматит неуточнённый', chronic: false, minAge: 0, drugs: [mometasone] },
  { code: 'J45.9', display: 'Астма неуточнённая', chronic: true, minAge: 5, drugs: [salbutamol, budesonide] },
  { code: 'D50.9', display: 'Железодефицитная анемия неуточнённая', chronic: false, minAge: 12, drugs: [ironSulfate] },
  { code: 'N30.0', display: 'Острый цистит', chronic: false, minAge: 16, drugs: [fosfomycin, nitrofurantoin] },
  { code: 'N39.0', display: 'Инфекция мочевыводящих путей без установленной локализации', chronic: false, minAge: 16, drugs: [nitrofurantoin] },
  { code: 'K29.7', display: 'Гастрит неуточнённый', chronic: false, minAge: 14, drugs: [omeprazole] },
  { code: 'K21.9', display: 'Гастроэзофагеальный рефлюкс без эзофагита', chronic: true, minAge: 18, drugs: [omeprazole] },
  { code: 'K58.9', display: 'Синдром раздражённого кишечника без диареи', chronic: true, minAge: 18, drugs: [mebeverine] },
  { code: 'M54.5', display: 'Боль внизу спины', chronic: false, minAge: 18, drugs: [meloxicam, diclofenacGel] },
  { code: 'M42.1', display: 'Остеохондроз позвоночника у взрослых', chronic: true, minAge: 25, drugs: [meloxicam] },
  { code: 'M17.9', display: 'Гонартроз неуточнённый', chronic: true, minAge: 45, drugs: [meloxicam, diclofenacGel] },
  { code: 'G43.9', display: 'Мигрень неуточнённая', chronic: true, minAge: 14, drugs: [sumatriptan] },
  { code: 'G44.2', display: 'Головная боль напряжённого типа', chronic: false, minAge: 14, drugs: [ibuprofen] },
  { code: 'F41.2', display: 'Смешанное тревожное и депрессивное расстройство', chronic: true, minAge: 18, drugs: [sertraline] },
  { code: 'I10', display: 'Эссенциальная [первичная] гипертензия', chronic: true, minAge: 35, hypertension: true, drugs: [amlodipine, lisinopril, losartan, indapamide] },
  { code: 'I11.9', display: 'Гипертензивная болезнь с преимущественным поражением сердца без (застойной) сердечной недостаточности', chronic: true, minAge: 40, hypertension: true, drugs: [losartan, bisoprolol] },
  { code: 'I25.1', display: 'Атеросклеротическая болезнь сердца', chronic: true, minAge: 50, drugs: [atorvastatin, aspirin, bisoprolol] },
  { code: 'E78.0', display: 'Чистая гиперхолестеринемия', chronic: true, minAge: 35, drugs: [atorvastatin, rosuvastatin] },
  { code: 'E11.9', display: 'Инсулиннезависимый сахарный диабет без осложнений', chronic: true, minAge: 35, drugs: [metformin, gliclazide] },
  { code: 'E03.9', display: 'Гипотиреоз неуточнённый', chronic: true, minAge: 18, drugs: [levothyroxine] },
  { code: 'E66.0', display: 'Ожирение, обусловленное избыточным поступлением энергетических ресурсов', chronic: true, minAge: 18, drugs: [] },
  { code: 'J44.9', display: 'Хроническая обструктивная лёгочная болезнь неуточнённая', chronic: true, minAge: 45, drugs: [tiotropium, salbutamol] },
  { code: 'Z00.0', display: 'Общий медицинский осмотр', chronic: false, minAge: 18, drugs: [] },
]

export const LOINC = 'http://loinc.org'
export const UCUM = 'http://unitsofmeasure.org'

export interface VitalSign {
  key: 'systolic' | 'diastolic' | 'heartRate' | 'temperature' | 'height' | 'weight'
  loinc: string
  display: string
  text: string
  unit: string
  ucum: string
}

export const VITAL_SIGNS: Readonly<Record<VitalSign['key'], VitalSign>> = {
  systolic: { key: 'systolic', loinc: '8480-6', display: 'Systolic blood pressure', text: 'Систолическое артериальное давление', unit: 'мм рт. ст.', ucum: 'mm[Hg]' },
  diastolic: { key: 'diastolic', loinc: '8462-4', display: 'Diastolic blood pressure', text: 'Диастолическое артериальное давление', unit: 'мм рт. ст.', ucum: 'mm[Hg]' },
  heartRate: { key: 'heartRate', loinc: '8867-4', display: 'Heart rate', text: 'Частота сердечных сокращений', unit: 'уд/мин', ucum: '/min' },
  temperature: { key: 'temperature', loinc: '8310-5', display: 'Body temperature', text: 'Температура тела', unit: '°C', ucum: 'Cel' },
  height: { key: 'height', loinc: '8302-2', display: 'Body height', text: 'Рост', unit: 'см', ucum: 'cm' },
  weight: { key: 'weight', loinc: '29463-7', display: 'Body weight', text: 'Масса тела', unit: 'кг', ucum: 'kg' },
}

export interface Position {
  /** Врач-… (the PractitionerRole code text). */
  title: string
  specialty: string
  /** How the visit is named in Encounter.type and Schedule.serviceType. */
  visit: string
  /** Who sees children (first contact for patients under 18). */
  pediatric?: boolean
  /** First-contact doctors: most visits go to them. */
  primary?: boolean
}

/** The first three are the minimum staff (a therapist, a paediatrician, a GP); the rest cycle. */
export const POSITIONS: readonly Position[] = [
  { title: 'Врач-терапевт участковый', specialty: 'Терапия', visit: 'Приём (осмотр, консультация) врача-терапевта участкового', primary: true },
  { title: 'Врач-педиатр участковый', specialty: 'Педиатрия', visit: 'Приём (осмотр, консультация) врача-педиатра участкового', pediatric: true },
  { title: 'Врач общей практики (семейный врач)', specialty: 'Общая врачебная практика (семейная медицина)', visit: 'Приём (осмотр, консультация) врача общей практики', primary: true },
  { title: 'Врач-терапевт участковый', specialty: 'Терапия', visit: 'Приём (осмотр, консультация) врача-терапевта участкового', primary: true },
  { title: 'Врач-кардиолог', specialty: 'Кардиология', visit: 'Приём (осмотр, консультация) врача-кардиолога' },
  { title: 'Врач-эндокринолог', specialty: 'Эндокринология', visit: 'Приём (осмотр, консультация) врача-эндокринолога' },
  { title: 'Врач-невролог', specialty: 'Неврология', visit: 'Приём (осмотр, консультация) врача-невролога' },
  { title: 'Врач-терапевт участковый', specialty: 'Терапия', visit: 'Приём (осмотр, консультация) врача-терапевта участкового', primary: true },
  { title: 'Врач-хирург', specialty: 'Хирургия', visit: 'Приём (осмотр, консультация) врача-хирурга' },
  { title: 'Врач-оториноларинголог', specialty: 'Оториноларингология', visit: 'Приём (осмотр, консультация) врача-оториноларинголога' },
  { title: 'Врач-офтальмолог', specialty: 'Офтальмология', visit: 'Приём (осмотр, консультация) врача-офтальмолога' },
  { title: 'Врач-педиатр участковый', specialty: 'Педиатрия', visit: 'Приём (осмотр, консультация) врача-педиатра участкового', pediatric: true },
  { title: 'Врач-гастроэнтеролог', specialty: 'Гастроэнтерология', visit: 'Приём (осмотр, консультация) врача-гастроэнтеролога' },
]

export interface DocumentKind {
  loinc: string
  display: string
  text: string
  /** Attachment title before « от ДД.ММ.ГГГГ». */
  title: (visit: string) => string
}

export const DOCUMENT_KINDS: readonly DocumentKind[] = [
  { loinc: '11488-4', display: 'Consult note', text: 'Протокол консультации', title: (visit) => `Протокол: ${visit.charAt(0).toLowerCase()}${visit.slice(1)}` },
  { loinc: '57133-1', display: 'Referral note', text: 'Направление', title: () => 'Направление на консультацию и лабораторные исследования' },
  { loinc: '34133-9', display: 'Summary of episode note', text: 'Выписка из медицинской карты', title: () => 'Выписка из медицинской карты пациента, получающего медицинскую помощь в амбулаторных условиях' },
]
