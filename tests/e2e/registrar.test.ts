// The registrar's screens end to end, every part real: the built UI in Debian's Chromium through
// the Node host, the workstation core with its encrypted store, the reference portal over TLS with
// seeded patients and doctors. The workstation reaches the portal through a loopback fault proxy
// so that a test can hold its changes back («Не отправлено») and let them go. A second
// workstation (a core in this process, no UI) edits and books against the same portal to make
// conflicts. Each step is done as a registrar does it — typing and clicking — and checked on
// screen and in the portal's own database.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { REGISTRAR } from '../../scripts/demo/people'
import { formatPhone } from '../../src/shared/patient-form'
import { ogrnWithChecksum } from '../../src/shared/validators'
import { formatSnils, snilsWithChecksum } from '../../src/shared/validators/snils'
import type { FaultProxy } from '../support/fault-proxy'
import { loginRegistrar, newWorkstation, startRegistrarEnv, type Core, type RegistrarEnv } from '../support/registrar-env'
import type { RunningApp } from './support/app'
import {
  portalBookingsOfSlot,
  portalDoctors,
  portalPatientsBySnils,
  portalProxy,
  portalResource,
  portalResources,
  portalSomePatient,
  RegistrarUi,
  ruDate,
  startRegistrarApp,
  type PortalDoctor,
  type PortalSlot,
} from './support/registrar'

let env: RegistrarEnv
let proxy: FaultProxy
let app: RunningApp
let ui: RegistrarUi
const others: Core[] = []

beforeAll(async () => {
  env = await startRegistrarEnv({ patients: 30 })
  proxy = await portalProxy(env)
  app = await startRegistrarApp(env, { portalUrl: proxy.httpsUrl, portalTimeoutMs: 3000 })
  ui = new RegistrarUi(app.page, env, env.fx.dir)
})

afterAll(async () => {
  for (const core of others) await core.close()
  await app?.close()
  await proxy?.close()
  await env?.close()
})

const page = () => app.page
const byId = (id: string) => ui.byId(id)

/** Another registrar's workstation, logged in and synced. */
async function secondWorkstation(): Promise<Core> {
  const core = newWorkstation(env)
  others.push(core)
  await loginRegistrar(env, core)
  await core.handlers['sync.now']({})
  return core
}

/** The new patient of this suite, registered in the third test. */
const PATIENT = {
  family: 'Смирнова',
  given: 'Анна',
  patronymic: 'Игоревна',
  fullName: 'Смирнова Анна Игоревна',
  birthDate: '17.05.1990',
  snils: snilsWithChecksum('135792468'),
  phone: '8 916 123-45-67',
  address: 'г. Москва, ул. Лесная, д. 3, кв. 12',
}
let patientId = ''

/** «2026-11-23» of a slot's start, and the Monday of its week. */
const dayOf = (slot: PortalSlot) => slot.start.slice(0, 10)
function mondayOf(isoDate: string): string {
  const d = new Date(`${isoDate}T00:00:00Z`)
  d.setUTCDate(d.getUTCDate() - ((d.getUTCDay() + 6) % 7))
  return d.toISOString().slice(0, 10)
}

/** A doctor with at least `n` free slots in one week, and those slots. */
function doctorWithFreeSlots(doctors: PortalDoctor[], n: number, skip: readonly string[] = []): { doctor: PortalDoctor; slots: PortalSlot[] } {
  for (const doctor of doctors) {
    if (skip.includes(doctor.scheduleId) || doctor.free.length === 0) continue
    const week = mondayOf(dayOf(doctor.free[0]!))
    const slots = doctor.free.filter((s) => mondayOf(dayOf(s)) === week)
    if (slots.length >= n) return { doctor, slots }
  }
  throw new Error(`no doctor with ${n} free slots in a week`)
}

/** On «Расписание»: picks the doctor by typing part of the name, then the week of `isoDate`. */
async function openWeek(doctor: PortalDoctor, isoDate: string, within = page().locator('body')): Promise<void> {
  const select = within.locator('[data-testid="schedule-doctor"]')
  if ((await select.getAttribute('data-value')) !== doctor.scheduleId) {
    await select.locator('.ant-select').click()
    await page().keyboard.type(doctor.name.split(' ')[0]!)
    await page().locator('.ant-select-item-option', { hasText: doctor.name }).click()
    await expect.poll(() => select.getAttribute('data-value')).toBe(doctor.scheduleId)
  }
  await within.locator('[data-testid="schedule-view-week"]').click()
  const date = within.locator('[data-testid="schedule-date"]')
  await date.fill('')
  await date.pressSequentially(ruDate(isoDate).replaceAll('.', ''), { delay: 10 })
  const range = within.locator('[data-testid="schedule-range"]')
  await expect.poll(() => range.getAttribute('data-from')).toBe(mondayOf(isoDate))
  expect(await range.getAttribute('data-days')).toBe('7')
}

const slot = (id: string, within = page().locator('[data-testid="schedule-page"]')) => within.locator(`[data-testid="slot-${id}"]`)

describe('the registrar in the real UI against the real portal', () => {
  it('logs in by password and code to the shell with navigation and the sync state in the header', async () => {
    await ui.loginOnline()
    expect(await byId('user-name').textContent()).toBe(REGISTRAR.fullName)
    expect(await page().locator('.app-nav [data-testid^="nav-"]').allTextContents()).toEqual(['Главная', 'Пациенты', 'Расписание', 'Синхронизация', 'Журнал действий'])
    // The first sync after login pulls the clinic.
    await ui.waitAllSent()
    expect(await byId('sync-last').textContent()).toMatch(/^Синхронизировано \d{2}:\d{2}$/)
    expect(await byId('sync-status').getAttribute('data-online')).toBe('true')
    expect(await byId('offline-mark').count()).toBe(0)
  })

  it('finds patients as the name, the СНИЛС or the birth date is typed', async () => {
    const someone = await portalSomePatient(env)
    await ui.go('patients')
    expect(await page().locator('h1').textContent()).toBe('Пациенты')

    await ui.search(`${someone.family.slice(0, 3).toLowerCase()} ${someone.given.slice(0, 2).toLowerCase()}`)
    await ui.patientRow(someone.id).waitFor()
    expect(await byId('search-kind').getAttribute('data-kind')).toBe('name')
    expect(await byId('search-kind').textContent()).toBe('Поиск по ФИО')
    expect(await ui.patientRow(someone.id).locator('[data-testid="patient-row-name"]').textContent()).toMatch(new RegExp(`^${someone.family} ${someone.given}`))
    expect(await byId('search-took').textContent()).toMatch(/^найден(о)? \d+ · \d+ мс$/)

    const prefix = formatSnils(someone.snils).slice(0, 7) // «123-456»
    await ui.search(prefix)
    await ui.patientRow(someone.id).waitFor()
    expect(await byId('search-kind').textContent()).toBe('Поиск по СНИЛС')
    const snilsCells = await page().locator('[data-testid="patient-row"] td:nth-child(3)').allTextContents()
    expect(snilsCells.length).toBeGreaterThan(0)
    for (const s of snilsCells) expect(s.startsWith(prefix)).toBe(true)

    const born = ruDate(someone.birthDate)
    await ui.search(born)
    await ui.patientRow(someone.id).waitFor()
    expect(await byId('search-kind').textContent()).toBe('Поиск по дате рождения')
    for (const d of await page().locator('[data-testid="patient-row"] td:nth-child(2)').allTextContents()) expect(d).toBe(born)

    await ui.search(`${someone.family.slice(0, 4)} ${someone.given.slice(0, 3)}`)
    await ui.shot('registrar-patients')
  })

  it('refuses a form with mistakes at each field, then registers the patient: «Не отправлено» until sync, then on the portal once', async () => {
    await ui.go('patients')
    await byId('patient-new').click()
    await byId('patient-form').waitFor()
    const badSnils = `${PATIENT.snils.slice(0, 9)}${PATIENT.snils.slice(9) === '00' ? '01' : '00'}`
    await ui.type('field-family', 'Smirnova')
    await ui.type('field-given', PATIENT.given)
    await ui.type('field-patronymic', PATIENT.patronymic)
    await ui.type('field-birthDate', '31022020')
    expect(await byId('field-birthDate').inputValue()).toBe('31.02.2020')
    await byId('gender-female').click()
    await ui.type('field-snils', formatSnils(badSnils))
    await ui.type('field-phone', PATIENT.phone)
    await ui.type('field-address', PATIENT.address)
    await byId('patient-save').click()

    expect(await byId('field-error-family').textContent()).toContain('латинские буквы')
    expect(await byId('field-error-birthDate').textContent()).toBe('Такой даты нет в календаре. Проверьте день и месяц.')
    expect(await byId('field-error-snils').textContent()).toContain('не сходится контрольное число')
    expect(await byId('field-error-given').count()).toBe(0)
    expect(await byId('patient-form-problems').textContent()).toBe('Исправьте 3 поля, отмеченные красным')
    // Nothing was saved: no id, nothing waiting, nothing on the portal.
    expect(await byId('patient-card').getAttribute('data-id')).toBe('')
    expect(await byId('patient-saved').count()).toBe(0)
    expect((await ui.syncState()).pending).toBe(0)
    expect(await portalPatientsBySnils(env, badSnils)).toEqual([])

    // The network goes away for a while: what is saved now waits on this computer.
    proxy.setMode('refuse')
    await ui.type('field-family', 'Смирнова')
    expect(await byId('field-error-family').count()).toBe(0)
    await ui.type('field-birthDate', PATIENT.birthDate)
    await ui.type('field-snils', formatSnils(PATIENT.snils))
    expect(await byId('field-error-snils').count()).toBe(0)
    await byId('patient-save').click()
    await page().locator('[data-testid="patient-saved"][data-saved="created"]').waitFor()
    patientId = (await byId('patient-card').getAttribute('data-id')) ?? ''
    expect(patientId).not.toBe('')
    expect(await byId('patient-title').textContent()).toBe(`${PATIENT.fullName} Не отправлено`)
    await expect.poll(async () => (await ui.syncState()).pending).toBe(1)
    expect(await byId('sync-pending').textContent()).toBe('Не отправлено: 1')
    // The attempt to send it failed: the header says the portal does not answer.
    await expect.poll(() => byId('offline-mark').getAttribute('data-reason'), { timeout: 15_000 }).toBe('network')

    await byId('patient-back').click()
    await ui.search('смирнова ан')
    const row = ui.patientRow(patientId)
    expect(await row.getAttribute('data-change')).toBe('pending')
    expect(await row.locator('[data-testid="change-tag"]').textContent()).toBe('Не отправлено')
    expect(await portalPatientsBySnils(env, PATIENT.snils)).toEqual([])

    proxy.setMode('pass')
    await ui.syncNow()
    await ui.waitAllSent()
    await expect.poll(() => row.getAttribute('data-change')).toBeNull()
    expect(await row.locator('[data-testid="change-tag"]').count()).toBe(0)
    expect(await byId('offline-mark').count()).toBe(0)
    const onPortal = await portalPatientsBySnils(env, PATIENT.snils)
    expect(onPortal.map((p) => p.id)).toEqual([patientId])
    expect(onPortal[0]!.body.name).toEqual([expect.objectContaining({ family: 'Смирнова', given: ['Анна', 'Игоревна'] })])
    expect(onPortal[0]!.body.birthDate).toBe('1990-05-17')
  })

  it('edits the patient, attaches and detaches with the dialogs, and the history shows both', async () => {
    await ui.patientRow(patientId).click()
    await page().locator(`[data-testid="patient-card"][data-id="${patientId}"]`).waitFor()
    expect(await byId('field-phone').inputValue()).toBe('+7 916 123-45-67')
    await ui.type('field-phone', '+7 916 765-43-21')
    await byId('patient-save').click()
    await page().locator('[data-testid="patient-saved"][data-saved="updated"]').waitFor()
    expect(await byId('attachment-none').textContent()).toBe('Пациент не прикреплён к поликлинике.')
    expect(await byId('detach-open').isDisabled()).toBe(true)

    const today = await byId('attach-open').evaluate(() => new Intl.DateTimeFormat('ru-RU', { day: '2-digit', month: '2-digit', year: 'numeric' }).format(new Date()))
    await byId('attach-open').click()
    await byId('attach-dialog').waitFor()
    await byId('attach-submit').click()
    expect(await byId('attach-area-error').textContent()).toBe('Укажите номер участка.')
    await ui.type('attach-area', '12')
    await byId('attach-basis-territorial').click()
    expect(await byId('attach-from').inputValue()).toBe(today)
    await byId('attach-submit').click()
    await byId('attach-dialog').waitFor({ state: 'detached' })
    expect(await byId('attachment-current-area').textContent()).toBe('12')
    expect(await byId('attachment-current').textContent()).toContain('По месту жительства')

    await byId('detach-open').click()
    await byId('detach-dialog').waitFor()
    expect(await byId('detach-dialog').textContent()).toContain(`Прикрепление: участок 12, с ${today}.`)
    await byId('detach-submit').click()
    expect(await byId('detach-reason-error').textContent()).toBe('Укажите причину открепления.')
    await byId('detach-reason').locator('input').click()
    await page().locator('.ant-select-item-option', { hasText: 'Смена места жительства' }).click()
    await byId('detach-submit').click()
    await byId('detach-dialog').waitFor({ state: 'detached' })
    await byId('attachment-none').waitFor()

    const rows = byId('attachment-row')
    expect(await rows.count()).toBe(1)
    expect(await rows.first().getAttribute('data-open')).toBe('false')
    expect(await rows.first().locator('td').allTextContents()).toEqual([today, today, '12', 'По месту жительства', 'Смена места жительства'])

    await ui.waitAllSent()
    const [onPortal] = await portalPatientsBySnils(env, PATIENT.snils)
    const text = JSON.stringify(onPortal!.body)
    expect(text).toContain('+79167654321')
    expect(text).toContain('Смена места жительства')

    await ui.go('audit')
    await page().locator('[data-testid="audit-row"]').first().waitFor()
    const mine = await page().locator(`[data-testid="audit-row"][data-resource="${patientId}"]`).evaluateAll((r) => r.map((x) => x.getAttribute('data-action')))
    expect(mine.slice(0, 4)).toEqual(['patient.detach', 'patient.attach', 'patient.update', 'patient.create'])
    expect(await page().locator(`[data-testid="audit-row"][data-resource="${patientId}"]`).first().textContent()).toContain('Открепление')
  })

  it('books a free slot for the patient on a doctor’s week, moves it, cancels it, and the portal follows', async () => {
    const { doctor, slots } = doctorWithFreeSlots(await portalDoctors(env), 2)
    const [first, second] = slots as [PortalSlot, PortalSlot]
    await ui.go('patients')
    await ui.search('смирнова ан')
    await ui.patientRow(patientId).click()
    await byId('book-for-patient').click()
    await byId('schedule-page').waitFor()
    expect(await byId('schedule-patient').textContent()).toContain(`Запись пациента: ${PATIENT.fullName}`)
    await openWeek(doctor, dayOf(first))
    expect(await byId('schedule-day').count()).toBe(7)

    await slot(first.id).click()
    await byId('book-dialog').waitFor()
    expect(await byId('book-patient').textContent()).toBe(PATIENT.fullName)
    expect(await byId('book-when').textContent()).toBe(`${ruDate(dayOf(first))} ${first.start.slice(11, 16)}`)
    await ui.type('book-reason', 'Повторный приём')
    await byId('book-submit').click()
    await byId('book-done').waitFor()
    expect(await byId('book-done').textContent()).toContain(`${PATIENT.fullName} записан(а) на ${ruDate(dayOf(first))} ${first.start.slice(11, 16)}`)
    const appointmentId = (await byId('book-done').getAttribute('data-id')) ?? ''
    await expect.poll(() => slot(first.id).getAttribute('data-appointment')).toBe(appointmentId)
    expect(await slot(first.id).getAttribute('data-status')).toBe('busy')
    expect(await slot(first.id).textContent()).toContain('Смирнова А. И.')
    await ui.waitAllSent()
    await ui.shot('registrar-schedule-week')
    expect((await portalBookingsOfSlot(env, first.id)).map((a) => a.id)).toEqual([appointmentId])
    expect((await portalResource(env, 'Slot', first.id))?.status).toBe('busy')

    // Move: the picker opens on the same doctor's week.
    await slot(first.id).click()
    await page().locator(`[data-testid="appointment-dialog"][data-id="${appointmentId}"]`).waitFor()
    await byId('appointment-move').click()
    const picker = byId('slot-picker')
    await picker.waitFor()
    expect(await picker.locator('[data-testid="schedule-doctor"]').getAttribute('data-value')).toBe(doctor.scheduleId)
    expect(await picker.locator('[data-testid="schedule-range"]').getAttribute('data-from')).toBe(mondayOf(dayOf(first)))
    await picker.locator(`[data-testid="slot-${second.id}"]`).click()
    await picker.waitFor({ state: 'detached' })
    await expect.poll(() => slot(second.id).getAttribute('data-appointment')).toBe(appointmentId)
    await expect.poll(() => slot(first.id).getAttribute('data-status')).toBe('free')
    await ui.waitAllSent()
    expect((await portalBookingsOfSlot(env, second.id)).map((a) => a.id)).toEqual([appointmentId])
    expect(await portalBookingsOfSlot(env, first.id)).toEqual([])
    expect((await portalResource(env, 'Slot', first.id))?.status).toBe('free')
    expect((await portalResource(env, 'Appointment', appointmentId))?.start).toBe(second.start)

    // Cancel, after a yes.
    await slot(second.id).click()
    await byId('appointment-dialog').waitFor()
    await byId('appointment-cancel').click()
    const confirm = byId('appointment-cancel-dialog')
    await confirm.waitFor()
    expect(await confirm.textContent()).toBe(
      `Запись пациента ${PATIENT.fullName} на ${ruDate(dayOf(second))} ${second.start.slice(11, 16)} к врачу ${doctor.name} будет отменена, время освободится.`,
    )
    await byId('appointment-cancel-confirm').click()
    await expect.poll(() => slot(second.id).getAttribute('data-status')).toBe('free')
    await ui.waitAllSent()
    expect((await portalResource(env, 'Appointment', appointmentId))?.status).toBe('cancelled')
    expect((await portalResource(env, 'Slot', second.id))?.status).toBe('free')
  })

  it('shows a conflict with another workstation side by side and merges it field by field', async () => {
    const other = await secondWorkstation()
    // This workstation is cut off while both edit the same patient; the other one syncs first.
    proxy.setMode('refuse')
    await ui.go('patients')
    await ui.search('смирнова ан')
    await ui.patientRow(patientId).click()
    await page().locator(`[data-testid="patient-card"][data-id="${patientId}"]`).waitFor()
    await ui.type('field-phone', '+7 917 000-11-22')
    await ui.type('field-address', 'г. Москва, ул. Арбат, д. 5')
    await byId('patient-save').click()
    await page().locator('[data-testid="patient-saved"][data-saved="updated"]').waitFor()

    const theirs = await other.handlers['patients.get']({ id: patientId })
    await other.handlers['patients.save']({ id: patientId, form: { ...theirs.form, phone: '+79035556677', address: 'г. Москва, ул. Тверская, д. 7' } })
    expect(await other.handlers['sync.now']({})).toMatchObject({ pending: 0, conflicts: 0 })

    proxy.setMode('pass')
    await ui.syncNow()
    const link = byId('sync-problems-link')
    await expect.poll(() => link.getAttribute('data-conflicts'), { timeout: 15_000 }).toBe('1')
    expect(await link.textContent()).toBe('1 конфликт')
    await link.click()
    await byId('sync-page').waitFor()
    const card = page().locator(`article[data-kind="conflict"][data-resource="${patientId}"]`)
    await card.waitFor()
    expect(await card.locator('h2').textContent()).toBe(`${PATIENT.fullName} Конфликт`)
    expect(await card.locator('[data-testid="problem-message"]').textContent()).toBe('Запись изменена на портале другим пользователем, пока ваши изменения ждали отправки.')
    expect(await card.locator('[data-testid="problem-hint"]').textContent()).toBe('Сравните версии и решите, какую оставить.')
    const table = card.locator('[data-testid="conflict-table"]')
    expect(await table.locator('th').allTextContents()).toEqual(['Поле', 'Моя версия', 'Версия портала'])
    const differing = await table.locator('[data-testid="conflict-row"][data-differs="true"]').evaluateAll((r) => r.map((x) => x.getAttribute('data-key')))
    expect(differing).toEqual(['phone', 'address'])
    const cells = (key: string) => table.locator(`[data-testid="conflict-row"][data-key="${key}"] td`).allTextContents()
    expect(await cells('phone')).toEqual(['Телефон', formatPhone('+79170001122'), formatPhone('+79035556677')])
    expect(await cells('address')).toEqual(['Адрес', 'г. Москва, ул. Арбат, д. 5', 'г. Москва, ул. Тверская, д. 7'])
    expect(await cells('name')).toEqual(['ФИО', PATIENT.fullName, PATIENT.fullName])
    await ui.shot('registrar-conflict')

    await card.locator('[data-testid="resolve-merged"]').click()
    expect(await table.locator('th').allTextContents()).toEqual(['Поле', 'Моя версия', 'Версия портала', 'Оставить'])
    await card.locator('[data-testid="merge-phone-local"]').click()
    const apply = card.locator('[data-testid="merge-apply"]')
    expect(await apply.textContent()).toBe('Сохранить объединённую версию (1 поле моё)')
    await ui.shot('registrar-conflict-merge')
    await apply.click()
    await byId('problems-empty').waitFor()
    await ui.waitAllSent()
    const [onPortal] = await portalPatientsBySnils(env, PATIENT.snils)
    const text = JSON.stringify(onPortal!.body)
    expect(text).toContain('+79170001122')
    expect(text).toContain('г. Москва, ул. Тверская, д. 7')
    expect(text).not.toContain('Арбат')
    // The other workstation gets the merged version too.
    await other.handlers['sync.now']({})
    expect((await other.handlers['patients.get']({ id: patientId })).form).toMatchObject({ phone: '+79170001122', address: 'г. Москва, ул. Тверская, д. 7' })
  })

  it('lets a booking lost to another workstation move to another time, once on the portal', async () => {
    const { doctor, slots } = doctorWithFreeSlots(await portalDoctors(env), 2)
    const [wanted, instead] = slots as [PortalSlot, PortalSlot]
    const other = await secondWorkstation()
    proxy.setMode('refuse')
    await ui.go('schedule')
    await openWeek(doctor, dayOf(wanted))
    await slot(wanted.id).click()
    const dialog = byId('book-dialog')
    await dialog.waitFor()
    // No patient chosen yet: found in the dialog as on «Пациенты».
    await dialog.locator('[data-testid="patient-search"]').pressSequentially('смирнова ан', { delay: 20 })
    await dialog.locator(`[data-testid="patient-row"][data-id="${patientId}"]`).click()
    expect(await byId('book-patient').textContent()).toBe(PATIENT.fullName)
    await byId('book-submit').click()
    await byId('book-done').waitFor()
    const appointmentId = (await byId('book-done').getAttribute('data-id')) ?? ''
    await expect.poll(async () => (await ui.syncState()).pending).toBe(1)

    // The other registrar books the same time for someone else and syncs first.
    const someone = await portalSomePatient(env)
    const theirs = await other.handlers['appointments.book']({ slotId: wanted.id, patientId: someone.id, reason: '' })
    expect(await other.handlers['sync.now']({})).toMatchObject({ pending: 0, conflicts: 0 })

    proxy.setMode('pass')
    await ui.syncNow()
    await expect.poll(() => byId('sync-problems-link').getAttribute('data-conflicts'), { timeout: 15_000 }).toBe('1')
    // Nothing waits to be sent, yet not everything is sent: the header does not say «Всё отправлено».
    expect(await byId('sync-status').getAttribute('data-pending')).toBe('0')
    expect(await byId('sync-pending').count()).toBe(0)
    await ui.go('sync')
    const card = page().locator('article[data-kind="slotTaken"]')
    await card.waitFor()
    expect(await card.locator('[data-testid="problem-message"]').textContent()).toBe('Это время уже занято: другой регистратор записал на него пациента раньше.')
    expect(await card.locator('[data-testid="problem-hint"]').textContent()).toBe('Выберите другое время или отмените запись.')
    await ui.shot('registrar-slot-taken')
    expect(await card.locator('[data-testid="problem-discard"]').count()).toBe(0)
    await card.locator('[data-testid="problem-move"]').click()
    const picker = byId('slot-picker')
    await picker.waitFor()
    expect(await picker.locator('[data-testid="schedule-doctor"]').getAttribute('data-value')).toBe(doctor.scheduleId)
    expect(await picker.locator('[data-testid="schedule-range"]').getAttribute('data-from')).toBe(mondayOf(dayOf(wanted)))
    // The lost time is someone else's now: it cannot be picked.
    expect(await picker.locator(`[data-testid="slot-${wanted.id}"]`).isDisabled()).toBe(true)
    await picker.locator(`[data-testid="slot-${instead.id}"]`).click()
    await picker.waitFor({ state: 'detached' })
    await byId('problems-empty').waitFor()
    await ui.syncNow()
    await ui.waitAllSent()

    expect((await portalBookingsOfSlot(env, wanted.id)).map((a) => a.id)).toEqual([theirs.id])
    expect((await portalBookingsOfSlot(env, instead.id)).map((a) => a.id)).toEqual([appointmentId])
    const ours = (await portalResources(env, 'Appointment')).filter((a) => JSON.stringify(a.participant).includes(`Patient/${patientId}`) && a.status === 'booked')
    expect(ours.map((a) => a.id)).toEqual([appointmentId])
    expect(ours[0]!.start).toBe(instead.start)

    // On the patient's card: one appointment, at the new time.
    await ui.go('patients')
    await ui.search('смирнова ан')
    await ui.patientRow(patientId).click()
    const booked = page().locator('[data-testid="appointment-row"][data-status="booked"]')
    await booked.first().waitFor()
    expect(await booked.count()).toBe(1)
    expect(await booked.first().getAttribute('data-id')).toBe(appointmentId)
    expect(await booked.first().textContent()).toContain(`${ruDate(dayOf(instead))} ${instead.start.slice(11, 16)}`)
  })

  it('offers to drop a change the portal refused, and the portal’s version comes back', async () => {
    const someone = await portalSomePatient(env)
    const before = await portalResource(env, 'Patient', someone.id)
    await ui.go('patients')
    await ui.search(`${someone.family} ${someone.given}`)
    await ui.patientRow(someone.id).click()
    await page().locator(`[data-testid="patient-card"][data-id="${someone.id}"]`).waitFor()
    const phoneBefore = await byId('field-phone').inputValue()
    // Meanwhile the patient's record passed to another clinic on the portal: this one may no longer write it.
    await env.portal.db.query(`UPDATE fhir_resources SET org = $1 WHERE type = 'Patient' AND id = $2`, [ogrnWithChecksum('102770099999'), someone.id])

    await ui.type('field-phone', '+7 999 111-22-33')
    await byId('patient-save').click()
    await page().locator('[data-testid="patient-saved"][data-saved="updated"]').waitFor()
    const link = byId('sync-problems-link')
    await expect.poll(() => link.getAttribute('data-rejected'), { timeout: 15_000 }).toBe('1')
    expect(await link.textContent()).toBe('1 отклонено')
    expect(await byId('sync-pending').count()).toBe(0)
    await link.click()
    const card = page().locator(`article[data-kind="rejected"][data-resource="${someone.id}"]`)
    await card.waitFor()
    expect(await card.locator('[data-testid="problem-message"]').textContent()).toMatch(/^Ответ портала: \S/)
    expect(await card.locator('button').allTextContents()).toEqual(['Исправить', 'Отправить снова', 'Отменить изменение'])
    await ui.shot('registrar-rejected')

    const heading = (await card.locator('h2').textContent()) ?? ''
    expect(heading).toMatch(new RegExp(`^${someone.family} ${someone.given} .+ Отклонено порталом$`))
    const title = heading.replace(/ Отклонено порталом$/, '')
    await card.locator('[data-testid="problem-discard"]').click()
    const confirm = byId('problem-discard-dialog')
    await confirm.waitFor()
    expect(await confirm.textContent()).toBe(
      `Ваше изменение «${title}» будет удалено с этого компьютера и не будет отправлено на портал. Вернётся версия, которая есть на портале. Отменить это нельзя.`,
    )
    await byId('problem-discard-confirm').click()
    await byId('problems-empty').waitFor()
    await ui.waitAllSent()

    // This workstation shows the portal's version again, with nothing waiting.
    await ui.go('patients')
    await ui.search(`${someone.family} ${someone.given}`)
    expect(await ui.patientRow(someone.id).getAttribute('data-change')).toBeNull()
    await ui.patientRow(someone.id).click()
    await page().locator(`[data-testid="patient-card"][data-id="${someone.id}"]`).waitFor()
    await expect.poll(() => byId('field-phone').inputValue()).toBe(phoneBefore)
    expect((await byId('patient-title').textContent())?.trim()).toBe(title)
    expect(await portalResource(env, 'Patient', someone.id)).toEqual(before)
    await ui.go('audit')
    const entries = page().locator(`[data-testid="audit-row"][data-resource="${someone.id}"]`)
    await entries.first().waitFor()
    expect(await entries.evaluateAll((r) => r.map((x) => x.getAttribute('data-action')))).toEqual(['sync.discard', 'patient.update'])
    expect(await entries.first().locator('td').nth(2).textContent()).toBe('Отмена изменения')
    await ui.shot('registrar-audit')
    expect(app.consoleErrors).toEqual([])
  })
})
